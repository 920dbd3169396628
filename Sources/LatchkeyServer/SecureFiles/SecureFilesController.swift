import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/secure_files`: GitLab's project-level secure files (`API::Ci::SecureFiles`). Listing and downloading need
/// read_secure_files (Developer), uploading and deleting admin_secure_files (Maintainer); a job token reaches them within its
/// allowlist (`read_secure_files`, `admin_secure_files`) and its `secure_files` permission, which is how
/// `download-secure-files` fetches them into a job. Contents are sealed at rest.
struct SecureFilesController {
    let authorizer: Authorizer
    let secureFiles: SecureFileRepository
    let baseURL: String

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/secure_files", use: list)
        routes.post("projects/:id/secure_files", use: create)
        routes.get("projects/:id/secure_files/:secure_file_id", use: show)
        routes.get("projects/:id/secure_files/:secure_file_id/download", use: download)
        routes.delete("projects/:id/secure_files/:secure_file_id", use: delete)
        return routes
    }

    /// GitLab's `Ci::SecureFile` entity.
    struct SecureFileEntity: Encodable {
        var id: Int64
        var name: String
        var checksum: String
        var checksumAlgorithm = "sha256"
        var createdAt: Date
        @Nullable var expiresAt: Date?
        @Nullable var metadata: String?
        @Nullable var fileExtension: String?

        init(_ file: SecureFile) {
            id = file.id
            name = file.name
            checksum = file.checksum
            createdAt = file.createdAt
            expiresAt = nil
            metadata = nil
            fileExtension = file.fileExtension
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await authorizer.project(try context.parameters.require("id"), .readSecureFiles, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let files = try await secureFiles.files(projectID: facts.project.id)
        let page = try PageRequest(parameters)
        let slice = files.dropFirst(page.offset).prefix(page.perPage).map(SecureFileEntity.init)
        return try Page(items: Array(slice), total: files.count, request: page).response(for: request, baseURL: baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, file) = try await find(context, .readSecureFiles)
        return try JSON.response(SecureFileEntity(file))
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, file) = try await find(context, .readSecureFiles)
        guard let content = try await secureFiles.content(id: file.id, projectID: facts.project.id) else { throw Self.notFound }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.contentDisposition] = Self.attachment(file.name)
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: content)))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await authorizer.project(try context.parameters.require("id"), .readSecureFiles, actor: context.actor)
        try await authorizer.authorize(context.actor, .adminSecureFiles, facts)
        // The file, its name and the multipart framing: a body past this is refused before it is all read.
        let parameters = try await APIParameters.read(request, context: context, limit: SecureFile.maximumSize + 64 * 1024)
        let name = try parameters.requireString("name")
        guard let content = parameters.files["file"] else { throw APIError(.badRequest, error: "file is missing") }
        if let permissions = try parameters.string("permissions"), !["read_only", "read_write", "execute"].contains(permissions) {
            throw APIError(.badRequest, error: "permissions does not have a valid value")
        }
        guard SecureFile.isValidName(name) else { throw APIError.validation(["name": ["is invalid"]]) }
        guard content.count < SecureFile.maximumSize else { throw APIError(.contentTooLarge, message: "413 Request Entity Too Large") }
        do {
            let file = try await secureFiles.create(projectID: facts.project.id, name: name, content: content)
            return try JSON.response(SecureFileEntity(file), status: .created)
        } catch SecureFileRepository.Failure.duplicateName {
            throw APIError.validation(["name": ["has already been taken"]])
        } catch SecureFileRepository.Failure.tooMany {
            throw APIError.validation(["base": ["Maximum number of secure files (\(SecureFile.maximumPerProject)) for this project reached"]])
        }
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, file) = try await find(context, .readSecureFiles)
        try await authorizer.authorize(context.actor, .adminSecureFiles, facts)
        try await secureFiles.delete(id: file.id, projectID: facts.project.id)
        return Response(status: .noContent)
    }

    static let notFound = APIError(.notFound, message: "404 Not found")

    private func find(_ context: AppRequestContext, _ ability: ProjectAbility) async throws -> (ProjectAccessFacts, SecureFile) {
        let facts = try await authorizer.project(try context.parameters.require("id"), ability, actor: context.actor)
        guard let id = Int64(try context.parameters.require("secure_file_id")), id > 0,
            let file = try await secureFiles.find(id: id, projectID: facts.project.id)
        else { throw Self.notFound }
        return (facts, file)
    }

    /// `attachment` with an ASCII fallback name (quotes and anything outside printable ASCII replaced) and the exact name in
    /// RFC 5987 form, so no name can break out of the header.
    static func attachment(_ name: String) -> String {
        let fallback = String(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" && $0.value != 0x7F ? Character($0) : "_" })
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? fallback
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
