import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// The generic package registry (`PUT`/`GET /projects/:id/packages/generic/:name/:version/:file`) and the project's package list.
struct GenericPackagesController {
    let environment: ServerEnvironment
    let files: PackageStore

    init(environment: ServerEnvironment) {
        self.environment = environment
        files = PackageStore(root: environment.settings.dataDirectory.appendingPathComponent("packages", isDirectory: true))
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.put("projects/:id/packages/generic/**", use: upload)
        routes.get("projects/:id/packages/generic/**", use: download)
        routes.get("projects/:id/packages", use: list)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }
    /// GitLab's generic package size limit is an instance setting; ours is the artifact limit.
    private var limit: Int64 { environment.settings.maxArtifactBytes }
    private static let checksumHeader = HTTPField.Name("X-Checksum-SHA256")!
    // A missing package or file is Rails' RecordNotFound in GitLab.
    static let notFound = APIError(.notFound, message: "404 Not found")

    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .createPackage, actor: context.actor)
        let coordinates = try GenericPackageCoordinates.parse(context.parameters.get(String(Parameters.recursiveCaptureKey)) ?? "")
        if let status = QueryString(request).get("status"), !["default", "hidden"].contains(status) {
            throw APIError(.badRequest, error: "status does not have a valid value")
        }
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > limit {
            throw APIError(.contentTooLarge, message: "413 Request Entity Too Large")
        }
        try files.prepare()
        let temporary = files.temporaryFile()
        defer { try? FileManager.default.removeItem(at: temporary) }
        var scanner = TokenCandidateScanner()
        let (size, sha256) = try await receive(request.body, to: temporary, scanning: &scanner)
        for text in [coordinates.name, coordinates.version, coordinates.fileName] {
            scanner.scan(text.utf8)
            scanner.endDocument()
        }
        // A live token in the package (or its name) is revoked, and the package is not kept.
        try await LeakedTokenGuard(environment: environment).refuseLeaks(scanner, surface: .genericPackage, project: facts.project, authorID: context.actor.user?.id)
        let stored = try files.commit(temporary, projectID: facts.project.id)
        var jobID: Int64?
        if case .job(let job) = context.actor { jobID = job.job.id }
        let (_, file) = try await environment.store.packages.addFile(
            projectID: facts.project.id, type: "generic", name: coordinates.name, version: coordinates.version, creatorID: context.actor.user?.id,
            fileName: coordinates.fileName, size: size, sha256: sha256, storagePath: stored, jobID: jobID)
        if QueryString(request).get("select") == "package_file" {
            return try JSON.response(PackageFileEntity(file), status: .created)
        }
        return try JSON.response(["message": "201 Created"], status: .created)
    }

    /// Streams the raw body to `destination` with its SHA-256, through `scanner` (up to its budget); never more than the limit.
    private func receive(_ body: RequestBody, to destination: URL, scanning scanner: inout TokenCandidateScanner) async throws -> (Int64, String) {
        try FileManager.default.createPrivateFile(at: destination)
        let handle = try FileHandle(forWritingTo: destination)
        defer { try? handle.close() }
        var hasher = SHA256()
        var written: Int64 = 0
        for try await chunk in body {
            written += Int64(chunk.readableBytes)
            guard written <= limit else { throw APIError(.contentTooLarge, message: "413 Request Entity Too Large") }
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            let scanned = written - Int64(chunk.readableBytes)
            if scanned < LeakedTokenGuard.scanBudget {
                scanner.scan(chunk.readableBytesView.prefix(Int(min(Int64(chunk.readableBytes), Int64(LeakedTokenGuard.scanBudget) - scanned))))
            }
            try handle.write(contentsOf: chunk.readableBytesView)
        }
        scanner.endDocument()
        return (written, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readPackage, actor: context.actor)
        let coordinates = try GenericPackageCoordinates.parse(context.parameters.get(String(Parameters.recursiveCaptureKey)) ?? "")
        guard let package = try await environment.store.packages.find(projectID: facts.project.id, type: "generic", name: coordinates.name, version: coordinates.version),
            let file = try await environment.store.packages.latestFile(packageID: package.id, fileName: coordinates.fileName)
        else { throw Self.notFound }
        let url = files.url(file.storagePath)
        guard FileManager.default.fileExists(atPath: url.path) else { throw Self.notFound }
        var response = try await ArtifactResponse.file(
            url, filename: (coordinates.fileName as NSString).lastPathComponent, contentType: "application/octet-stream", request: request, context: context)
        response.headers[Self.checksumHeader] = file.sha256
        return response
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readPackage, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let sort = try parameters.string("sort") ?? "asc"
        guard ["asc", "desc"].contains(sort) else { throw APIError(.badRequest, error: "sort does not have a valid value") }
        if let type = try parameters.string("package_type"), type != "generic", !Self.packageTypes.contains(type) {
            throw APIError(.badRequest, error: "package_type does not have a valid value")
        }
        let page = try await environment.store.packages.list(
            projectID: facts.project.id, type: try parameters.string("package_type"), name: try parameters.string("package_name"), ascending: sort == "asc",
            page: PageRequest(parameters))
        let entities = page.items.map { PackageEntity($0, project: facts.project, baseURL: baseURL) }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: baseURL)
    }

    static let packageTypes: Set<String> = [
        "maven", "npm", "conan", "nuget", "pypi", "composer", "generic", "golang", "debian", "rubygems", "helm", "terraform_module", "rpm", "ml_model",
    ]
}

/// GitLab's `Package` entity.
struct PackageEntity: Encodable, Sendable {
    struct Links: Encodable, Sendable {
        var webPath: String
        var deleteApiPath: String
    }

    var id: Int64
    var name: String
    var version: String
    var packageType: String
    var status: String
    var links: Links
    var createdAt: Date
    @Nullable var lastDownloadedAt: Date?
    var tags: [String] = []

    init(_ package: Package, project: Project, baseURL: String) {
        id = package.id
        name = package.name
        version = package.version
        packageType = package.packageType
        status = package.status
        links = Links(webPath: "/\(project.fullPath)/-/packages/\(package.id)", deleteApiPath: "\(baseURL)/api/v4/projects/\(project.id)/packages/\(package.id)")
        createdAt = package.createdAt
        lastDownloadedAt = nil
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, version, packageType, status, createdAt, lastDownloadedAt, tags
        case links = "_links"
    }
}

/// GitLab's `PackageFile` entity (`select=package_file`).
struct PackageFileEntity: Encodable, Sendable {
    var id: Int64
    var packageId: Int64
    var createdAt: Date
    var fileName: String
    var size: Int64
    @Nullable var fileMd5: String?
    @Nullable var fileSha1: String?
    var fileSha256: String

    init(_ file: PackageFile) {
        id = file.id
        packageId = file.packageID
        createdAt = file.createdAt
        fileName = file.fileName
        size = file.size
        fileMd5 = nil
        fileSha1 = nil
        fileSha256 = file.sha256
    }
}
