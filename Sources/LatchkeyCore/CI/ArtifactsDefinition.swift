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

    /// Whether `expire_in: never` keeps the artifacts for good.
    public var neverExpires: Bool {
        expireIn.map { $0.trimmingCharacters(in: .whitespaces).lowercased() == "never" } ?? false
    }
}
