import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyCore
import LatchkeyServer
import LatchkeyStore
import Logging

/// Runs `body` against a fresh server listening on a real socket with `serve`'s HTTP configuration (`HTTPServerBuilder.latchkey`),
/// for what only real connections show (a client that leaves mid-request). `body` gets the job queue its long polls wait on
/// and the port; `client` is one keep-alive connection to it.
public func withLiveTestServer<T: Sendable>(
    _ backend: TestBackend = .sqlite, longPoll: Duration, idleTimeout: Duration = .seconds(60),
    _ body: @Sendable (TestServer, JobQueue, Int, any TestClientProtocol) async throws -> T
) async throws -> T {
    try await withTestDatabase(backend) { database, directory in
        let rootToken = SecretToken.mint(.personalAccess).value
        var settings = ServerSettings(dataDirectory: directory, rootToken: rootToken, rootPassword: "root-password", embeddedRunners: 0, logLevel: .warning, passwordCost: 4)
        settings.externalURL = "http://latchkey.test"
        settings.jobRequestLongPoll = longPoll
        var logger = Logger(label: "latchkey.test")
        logger.logLevel = .warning
        let environment = try await makeEnvironment(settings: settings, database: database, logger: logger)
        try await bootstrapAdministrator(environment: environment)
        let server = TestServer(environment: environment, rootToken: rootToken)
        let queue = JobQueue()
        let app = Application(
            router: try await buildRouter(environment: environment, queue: queue), server: .latchkey(idleTimeout: idleTimeout),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        return try await app.test(.live) { client in
            guard let port = client.port else { throw LiveServerError.noPort }
            return try await body(server, queue, port, client)
        }
    }
}

enum LiveServerError: Error {
    case noPort
}
