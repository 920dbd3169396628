import Foundation

/// When a job's artifacts are uploaded.
public enum ArtifactsWhen: String, Codable, Sendable, CaseIterable {
    case onSuccess = "on_success"
    case onFailure = "on_failure"
    case always
}

/// A job's `artifacts:`.
public struct ArtifactsDefinition: Codable, Sendable, Equatable {
    public var name: String?
    public var paths: [String]
    public var when: ArtifactsWhen
    /// `expire_in` as written, for display.
    public var expireIn: String?
    /// `expire_in` in seconds; nil when absent (instance default) or `never`.
    public var expireInSeconds: Int?
    /// `untracked: true`: every file git does not track joins the archive.
    public var untracked: Bool = false
    /// `exclude:` globs left out of the archive.
    public var exclude: [String] = []
    /// Whether `paths:` or `untracked:` was given: without either GitLab asks for no archive (reports only).
    public var hasArchive: Bool = true
    /// `reports:` in file order.
    public var reports: [ArtifactReport] = []
    /// `expose_as:`, the merge request widget's label.
    public var exposeAs: String?

    /// Artifacts with GitLab's defaults: no name, no paths, uploaded on success, instance expiry.
    public init(
        name: String? = nil,
        paths: [String] = [],
        when: ArtifactsWhen = .onSuccess,
        expireIn: String? = nil,
        expireInSeconds: Int? = nil
    ) {
        self.name = name
        self.paths = paths
        self.when = when
        self.expireIn = expireIn
        self.expireInSeconds = expireInSeconds
    }

    /// Decodes stored JSON written before the newer fields existed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        paths = try container.decodeIfPresent([String].self, forKey: .paths) ?? []
        when = try container.decodeIfPresent(ArtifactsWhen.self, forKey: .when) ?? .onSuccess
        expireIn = try container.decodeIfPresent(String.self, forKey: .expireIn)
        expireInSeconds = try container.decodeIfPresent(Int.self, forKey: .expireInSeconds)
        untracked = try container.decodeIfPresent(Bool.self, forKey: .untracked) ?? false
        exclude = try container.decodeIfPresent([String].self, forKey: .exclude) ?? []
        hasArchive = try container.decodeIfPresent(Bool.self, forKey: .hasArchive) ?? true
        reports = try container.decodeIfPresent([ArtifactReport].self, forKey: .reports) ?? []
        exposeAs = try container.decodeIfPresent(String.self, forKey: .exposeAs)
    }

    /// Whether `expire_in: never` keeps the artifacts for good.
    public var neverExpires: Bool {
        expireIn.map { $0.trimmingCharacters(in: .whitespaces).lowercased() == "never" } ?? false
    }
}

/// One `artifacts:reports:` entry: the report type and the files it collects.
public struct ArtifactReport: Codable, Sendable, Equatable {
    /// GitLab's artifact type (`junit`, `dotenv`, `cobertura`, ...); `coverage_report` is stored as its `coverage_format`.
    public var type: String
    public var paths: [String]

    /// A report of `type` collecting `paths`.
    public init(type: String, paths: [String]) {
        self.type = type
        self.paths = paths
    }

    /// GitLab's `Enums::Ci::JobArtifact` format (`REPORT_TYPES`) and default file name (`DEFAULT_FILE_NAMES`) of each report type.
    public static let formats: [String: (format: String, fileName: String)] = [
        "junit": ("gzip", "junit.xml"), "metrics": ("gzip", "metrics.txt"), "dotenv": ("gzip", ".env"),
        "cobertura": ("gzip", "cobertura-coverage.xml"), "jacoco": ("gzip", "jacoco-coverage.xml"), "lsif": ("zip", "lsif.json"),
        "cyclonedx": ("gzip", "gl-sbom.cdx.json"), "annotations": ("gzip", "gl-annotations.json"),
        "repository_xray": ("gzip", "gl-repository-xray.json"), "sast": ("raw", "gl-sast-report.json"),
        "secret_detection": ("raw", "gl-secret-detection-report.json"), "dependency_scanning": ("raw", "gl-dependency-scanning-report.json"),
        "container_scanning": ("raw", "gl-container-scanning-report.json"), "cluster_image_scanning": ("raw", "gl-cluster-image-scanning-report.json"),
        "dast": ("raw", "gl-dast-report.json"), "license_scanning": ("raw", "gl-license-scanning-report.json"),
        "accessibility": ("raw", "gl-accessibility.json"), "codequality": ("raw", "gl-code-quality-report.json"),
        "performance": ("raw", "performance.json"), "browser_performance": ("raw", "browser-performance.json"),
        "load_performance": ("raw", "load-performance.json"), "terraform": ("raw", "tfplan.json"), "requirements": ("raw", "requirements.json"),
        "requirements_v2": ("raw", "requirements_v2.json"), "coverage_fuzzing": ("raw", "gl-coverage-fuzzing.json"),
        "api_fuzzing": ("raw", "gl-api-fuzzing-report.json"),
    ]

    /// The `artifact_format` gitlab-runner uploads this report in.
    public var format: String { Self.formats[type]?.format ?? "raw" }
    /// The file name GitLab gives the report's upload.
    public var fileName: String { Self.formats[type]?.fileName ?? type }
}
