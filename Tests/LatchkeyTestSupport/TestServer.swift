import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyCore
import LatchkeyServer
import LatchkeyStore
import Logging
import NIOCore

/// An in-process server over a fresh database, with root's token and helpers to make users and projects.
public struct TestServer: Sendable {
    public let environment: ServerEnvironment
    public let rootToken: String

    public var store: Store { environment.store }

    /// Makes a user with a personal access token (scopes `api` unless told otherwise).
    public func makeUser(_ username: String, admin: Bool = false, scopes: [TokenScope] = [.api, .readRepository, .writeRepository]) async throws -> (User, String) {
        let user = try await store.users.create(
            NewUser(username: username, name: username.capitalized, email: "\(username)@example.com", passwordHash: try await environment.passwords.hash("\(username)-password"), isAdmin: admin))
        let token = SecretToken.mint(.personalAccess)
        _ = try await store.personalAccessTokens.create(userID: user.id, name: "test", digest: environment.digester.digest(token), scopes: scopes, expiresAt: nil)
        return (user, token.value)
    }
}

/// Runs `body` against a fresh in-process server (router only: no sockets) on the given database.
public func withTestServer<T: Sendable>(
    _ backend: TestBackend = .sqlite, _ body: @Sendable (TestServer, any TestClientProtocol) async throws -> T
) async throws -> T {
    try await withTestServer(backend, configure: { _ in }, body)
}

/// Runs `body` against a fresh in-process server whose settings `configure` has changed first.
public func withTestServer<T: Sendable>(
    _ backend: TestBackend = .sqlite, configure: @Sendable (inout ServerSettings) -> Void, _ body: @Sendable (TestServer, any TestClientProtocol) async throws -> T
) async throws -> T {
    try await withTestDatabase(backend) { database, directory in
        let rootToken = SecretToken.mint(.personalAccess).value
        var settings = ServerSettings(dataDirectory: directory, rootToken: rootToken, rootPassword: "root-password", embeddedRunners: 0, logLevel: .warning, passwordCost: 4)
        settings.externalURL = "http://latchkey.test"
        settings.jobRequestLongPoll = .milliseconds(200)
        configure(&settings)
        var logger = Logger(label: "latchkey.test")
        logger.logLevel = .warning
        let environment = try await makeEnvironment(settings: settings, database: database, logger: logger)
        try await bootstrapAdministrator(environment: environment)
        let server = TestServer(environment: environment, rootToken: rootToken)
        let app = Application(router: try await buildRouter(environment: environment), logger: logger)
        return try await app.test(.router) { client in try await body(server, client) }
    }
}

/// A decoded JSON answer, for assertions.
public struct APIResponse: Sendable {
    public let status: HTTPResponse.Status
    public let headers: HTTPFields
    public let body: Data

    /// The body as JSON (`[String: Any]`, `[Any]`, ...), or nil.
    public var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
    public var object: [String: Any] { json as? [String: Any] ?? [:] }
    public var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

extension TestClientProtocol {
    /// Sends a request with a personal access token and an optional JSON or form body.
    public func api(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: [String: any Sendable]? = nil, form: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = extra
        if let token { headers[HTTPField.Name("PRIVATE-TOKEN")!] = token }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: form)
        }
        let uri = path.hasPrefix("/") ? path : "/api/v4/" + path
        return try await execute(uri: uri, method: method, headers: headers, body: body) { response in
            APIResponse(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }
}
