import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyCore
import LatchkeyServer
import LatchkeyStore
import LatchkeyTestSupport
import Logging
import PostgresNIO
import Testing

/// With the database down, the server says so: readiness fails and requests answer 503 quickly, never 500, never a hang.
@Suite("Database down")
struct DatabaseUnavailableTests {
    /// A router whose PostgreSQL server is down (nothing listens on its port).
    static func withDownDatabase(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var logger = Logger(label: "latchkey.test")
        logger.logLevel = .critical
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-down-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try ClosedPort.get()
        let client = try Database.postgresClient(url: "postgres://latchkey:pw@127.0.0.1:\(port)/latchkey", logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            var settings = ServerSettings(dataDirectory: directory, embeddedRunners: 0, logLevel: .critical, passwordCost: 4)
            settings.databaseTimeout = .milliseconds(300)
            let database = Database.postgres(client: client, connectionTimeout: settings.databaseTimeout)
            let environment = try await makeEnvironment(settings: settings, database: database, logger: logger)
            let app = Application(router: try await buildRouter(environment: environment), logger: logger)
            try await app.test(.router) { client in try await body(client) }
        }
    }

    @Test("readiness answers 503 while liveness stays 200")
    func readiness() async throws {
        try await Self.withDownDatabase { client in
            let started = ContinuousClock.now
            let ready = try await client.api(.get, "/-/readiness")
            #expect(ready.status == .serviceUnavailable, "\(ready.text)")
            #expect(ready.object["status"] as? String == "failed")
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(try await client.api(.get, "/-/liveness").status == .ok)
        }
    }

    /// Sends `path` and expects GitLab's 503 within three seconds.
    static func expectUnavailable(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: [String: any Sendable]? = nil,
        headers: HTTPFields = [:]
    ) async throws {
        let started = ContinuousClock.now
        let response = try await client.api(method, path, token: token, json: json, headers: headers)
        #expect(response.status == .serviceUnavailable, "\(method) \(path): \(response.status) \(response.text)")
        #expect(response.object["message"] as? String == "503 Service Unavailable", "\(method) \(path)")
        #expect(response.headers[.retryAfter] == "5")
        #expect(ContinuousClock.now - started < .seconds(10), "\(method) \(path)")
    }

    @Test("runner routes answer 503 with GitLab's message within seconds, not 500 and not a hang")
    func runnerRequests() async throws {
        try await Self.withDownDatabase { client in
            try await Self.expectUnavailable(client, .post, "jobs/request", json: ["token": "glrt-" + String(repeating: "a", count: 30)])
            try await Self.expectUnavailable(client, .post, "runners/verify", json: ["token": "glrt-" + String(repeating: "a", count: 30)])
        }
    }

    @Test("API requests, anonymous or with a token, answer 503 rather than 401 while the database is down")
    func apiRequests() async throws {
        try await Self.withDownDatabase { client in
            let token = SecretToken.mint(.personalAccess).value
            // Credentials the database could not check are not refused: a 401 would make clients drop a good token.
            try await Self.expectUnavailable(client, .get, "projects")
            try await Self.expectUnavailable(client, .get, "projects", token: token)
            try await Self.expectUnavailable(client, .get, "user", token: token)
            try await Self.expectUnavailable(client, .post, "projects", token: token, json: ["name": "p"])
            try await Self.expectUnavailable(client, .get, "personal_access_tokens/self", token: token)
            let jobToken: HTTPFields = [HTTPField.Name("JOB-TOKEN")!: SecretToken.mint(.jobToken).value]
            try await Self.expectUnavailable(client, .get, "job", headers: jobToken)
            try await Self.expectUnavailable(client, .get, "projects/1/packages/generic/p/1.0/f.txt", headers: jobToken)
            try await Self.expectUnavailable(client, .post, "/api/graphql", token: token, json: ["query": "{ currentUser { username } }"])
        }
    }

    @Test("git and the registry's token endpoint answer 503 rather than their 401 challenge while the database is down")
    func gitAndRegistry() async throws {
        try await Self.withDownDatabase { client in
            let password: HTTPFields = [.authorization: "Basic " + Data("root:some-password".utf8).base64EncodedString()]
            let personal: HTTPFields = [.authorization: "Basic " + Data("root:\(SecretToken.mint(.personalAccess).value)".utf8).base64EncodedString()]
            let job: HTTPFields = [.authorization: "Basic " + Data("gitlab-ci-token:\(SecretToken.mint(.jobToken).value)".utf8).base64EncodedString()]
            for headers in [password, personal, job] {
                for path in ["/root/app.git/info/refs?service=git-upload-pack", "/jwt/auth?service=container_registry&scope=repository:root/app:pull"] {
                    let response = try await client.api(.get, path, headers: headers)
                    #expect(response.status == .serviceUnavailable, "\(path): \(response.status) \(response.text)")
                    #expect(response.headers[.retryAfter] == "5", "\(path)")
                    #expect(response.headers[.wwwAuthenticate] == nil, "\(path): no challenge, the credentials were never checked")
                }
            }
        }
    }

    @Test("a token that cannot be valid is still 401 while the database is down: only a lookup that fails answers 503")
    func impossibleTokens() async throws {
        try await Self.withDownDatabase { client in
            for token in [String(repeating: "x", count: 600), "glpat-" + String(repeating: "a", count: 600)] {
                let response = try await client.api(.get, "user", token: token)
                #expect(response.status == .unauthorized, "\(response.status) \(response.text)")
            }
            let jobToken: HTTPFields = [HTTPField.Name("JOB-TOKEN")!: "not-a-job-token"]
            #expect(try await client.api(.get, "job", headers: jobToken).status == .unauthorized)
        }
    }
}

/// A TCP port nobody listens on right now.
enum ClosedPort {
    static func get() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
