import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Logging
import SQLKit
import Testing

@testable import LatchkeyServer

@Suite("Secrets at rest")
struct SecretsAtRestTests {
    static let secret = "at-rest-s3cret-value"

    @Test("variable values are AES-GCM sealed in the database and read back in the clear by the API and the job", arguments: TestBackend.all)
    func sealedVariables(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let project = try await client.createProject(["name": "app"], token: server.rootToken).id
            let created = try await client.api(
                .post, "projects/\(project)/variables", token: server.rootToken, json: ["key": "DEPLOY_KEY", "value": Self.secret, "masked": true])
            #expect(created.status == .created)
            let raw = try await server.store.database.read { db in
                try await db.select().column("value").from("ci_variables").all().map { try $0.decode(column: "value", as: String.self) }
            }
            #expect(raw.count == 1)
            #expect(raw.allSatisfy { SecretSealer.isSealed($0) && !$0.contains(Self.secret) }, "\(raw)")
            #expect(try await client.api(.get, "projects/\(project)/variables/DEPLOY_KEY", token: server.rootToken).string("value") == Self.secret)
            _ = try await client.api(.put, "projects/\(project)/variables/DEPLOY_KEY", token: server.rootToken, json: ["value": "changed-s3cret-value"])
            let changed = try await server.store.database.read { db in
                try await db.select().column("value").from("ci_variables").first()?.decode(column: "value", as: String.self)
            }
            #expect(changed.map { SecretSealer.isSealed($0) && !$0.contains("changed-s3cret") } == true)

            let job = try await client.runningJob(server, projectID: project, userToken: server.rootToken)
            let payload = try await client.api(.get, "job", headers: job.headers)
            #expect(payload.status == .ok)
            let variable = try #require(try await server.store.variables.find(projectID: project, key: "DEPLOY_KEY"))
            #expect(variable.value == "changed-s3cret-value")
        }
    }

    @Test("values stored in the clear by an older version are sealed at start", arguments: TestBackend.all)
    func sealsOldValues(backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let plain = Store(database: database)
            let owner = try await plain.users.create(NewUser(username: "o", name: "O", email: "o@example.com", passwordHash: nil, isAdmin: false))
            let namespace = try #require(try await plain.namespaces.personalNamespace(userID: owner.id))
            let project = try await plain.projects.create(
                NewProject(name: "p", path: "p", namespaceID: namespace.id, visibility: .private, description: "", defaultBranch: "main"), creatorID: owner.id)
            try await plain.variables.create(projectID: project.id, ProjectVariable(key: "OLD", value: "old-plain-value"))
            let sealed = Store(database: database, sealer: SecretSealer(secret: Array(repeating: 7, count: 64)))
            #expect(try await sealed.variables.find(projectID: project.id, key: "OLD")?.value == "old-plain-value")
            #expect(try await sealed.variables.sealPlainValues() == 1)
            #expect(try await sealed.variables.sealPlainValues() == 0)
            #expect(try await sealed.variables.find(projectID: project.id, key: "OLD")?.value == "old-plain-value")
            #expect(try await plain.variables.find(projectID: project.id, key: "OLD")?.value.hasPrefix("sealed:v1:") == true)
        }
    }

    @Test("the data directory is 0700 and the SQLite database 0600")
    func fileModes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-modes-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let settings = ServerSettings(dataDirectory: directory, rootToken: nil, rootPassword: nil, embeddedRunners: 0, logLevel: .warning, passwordCost: 4)
        let (database, _) = try await openDatabase(settings, logger: Logger(label: "test"))
        _ = try await makeEnvironment(settings: settings, database: database, logger: Logger(label: "test"))
        try await database.close()
        func mode(_ path: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1 }
        #expect(try mode(directory.path) == 0o700)
        #expect(try mode(directory.appendingPathComponent("latchkey.sqlite3").path) == 0o600)
        #expect(try mode(directory.appendingPathComponent("server-secret").path) == 0o600)
    }

    @Test("a value sealed under another server secret does not open")
    func otherKey() throws {
        let sealed = try SecretSealer(secret: Array(repeating: 1, count: 64)).seal("x-value")
        #expect(throws: SecretSealerError.cannotOpen) { try SecretSealer(secret: Array(repeating: 2, count: 64)).open(sealed) }
        #expect(try SecretSealer(secret: Array(repeating: 1, count: 64)).open(sealed) == "x-value")
    }
}
