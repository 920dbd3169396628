import Foundation
import LatchkeyCore
import LatchkeyServer
import LatchkeyStore
import LatchkeyTestSupport
import Logging
import Testing

/// Instance-level settings an operator meets: the registration token in the database, embedded runner tags, first-start-only keys.
@Suite("Instance settings")
struct InstanceSettingsTests {
    @Test("the registration token lives sealed in the database: two environments on it agree, and runners register with it", arguments: TestBackend.all)
    func registrationTokenInDatabase(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let token = try await server.environment.registrationToken()
            #expect(TokenKind.of(token) == .registration)
            // A second instance on the same database (another process, another data directory) reads the same token.
            let other = try await Self.environment(like: server.environment, dataDirectory: Self.scratch())
            #expect(try await other.registrationToken() == token)
            let stored = try #require(try await server.store.settings.value("runner_registration_token"))
            #expect(SecretSealer.isSealed(stored) && !stored.contains(token))
            #expect(!FileManager.default.fileExists(atPath: server.environment.settings.dataDirectory.appendingPathComponent("registration-token").path))
            let registered = try await client.api(.post, "runners", json: ["token": token, "description": "r"])
            #expect(registered.status == .created, "\(registered.text)")
            #expect(try await client.api(.post, "runners", json: ["token": token + "x", "description": "r"]).status == .forbidden)
        }
    }

    @Test("an instance that kept its registration token in a file takes it over, so its runners keep registering")
    func legacyRegistrationTokenFile() async throws {
        try await withTestDatabase(.sqlite) { database, directory in
            let legacy = SecretToken.mint(.registration).value
            let file = directory.appendingPathComponent("registration-token")
            try Data(legacy.utf8).write(to: file)
            let environment = try await makeEnvironment(settings: ServerSettings(dataDirectory: directory, passwordCost: 4), database: database, logger: Logger(label: "test"))
            #expect(try await environment.registrationToken() == legacy)
            #expect(!FileManager.default.fileExists(atPath: file.path))
            #expect(try await environment.registrationToken() == legacy)
        }
    }

    @Test("the embedded runner takes the tags it is started with, at every start")
    func embeddedRunnerTags() async throws {
        try await withTestServer { server, _ in
            var settings = server.environment.settings
            settings.embeddedRunnerTags = ["docker", "linux"]
            let first = try await Self.environment(like: server.environment, settings: settings)
            let token = try await first.embeddedRunnerToken()
            #expect(try await server.store.runners.list().first(where: \.embedded)?.tags == ["docker", "linux"])
            settings.embeddedRunnerTags = ["arm64"]
            let second = try await Self.environment(like: server.environment, settings: settings)
            #expect(try await second.embeddedRunnerToken() == token)
            let runner = try #require(try await server.store.runners.list().first(where: \.embedded))
            #expect(runner.tags == ["arm64"] && runner.runUntagged)
            #expect(try await server.store.runners.list().filter(\.embedded).count == 1)
        }
    }

    @Test("root's token and password given to an instance that already has root are ignored with a warning naming them")
    func firstStartOnlyWarning() async throws {
        try await withTestServer { server, client in
            let lines = LogLines()
            var settings = server.environment.settings
            settings.rootPassword = "another-password"
            settings.rootToken = SecretToken.mint(.personalAccess).value
            let environment = try await Self.environment(like: server.environment, settings: settings, logger: Logger(label: "test") { _ in lines })
            try await bootstrapAdministrator(environment: environment)
            let warnings = lines.all.filter { $0.level == .warning }.map(\.message)
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("root_token (LATCHKEY_ROOT_TOKEN) and root_password (LATCHKEY_ROOT_PASSWORD) is read on the first start only") == true, "\(warnings)")
            #expect(!(warnings.first ?? "").contains(settings.rootToken!) && !(warnings.first ?? "").contains("another-password"))
            // Nothing changed: the new token does not work, the old one does.
            #expect(try await client.api(.get, "user", token: settings.rootToken).status == .unauthorized)
            #expect(try await client.api(.get, "user", token: server.rootToken).status == .ok)
            try await bootstrapAdministrator(environment: server.environment)
        }
    }

    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-instance-\(UUID().uuidString)", isDirectory: true)
    }

    /// Another environment over the same store (as a second instance or a restart would build).
    static func environment(
        like base: ServerEnvironment, settings: ServerSettings? = nil, dataDirectory: URL? = nil, logger: Logger = Logger(label: "test")
    ) async throws -> ServerEnvironment {
        var settings = settings ?? base.settings
        if let dataDirectory { settings.dataDirectory = dataDirectory }
        return ServerEnvironment(
            settings: settings, store: base.store, digester: base.digester, repositories: base.repositories, passwords: base.passwords, logger: logger)
    }
}

/// A log handler that keeps what it is given, for assertions.
final class LogLines: LogHandler, @unchecked Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
    }
    private let lock = NSLock()
    private var lines: [Line] = []
    var all: [Line] { lock.withLock { lines } }
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lock.withLock { lines.append(Line(level: level, message: message.description)) }
    }
}
