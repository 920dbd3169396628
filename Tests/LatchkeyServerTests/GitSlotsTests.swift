import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Synchronization
import Testing

@testable import LatchkeyServer

@Suite("Git process slots per credential")
struct GitSlotsTests {
    @Test("a key holds at most its limit; a dropped slot frees one; other keys are not affected")
    func limit() async throws {
        let slots = GitSlots(limit: 2, wait: .milliseconds(150))
        var first: GitSlots.Slot? = try #require(await slots.acquire("user:1"))
        let second = try #require(await slots.acquire("user:1"))
        #expect(await slots.acquire("user:1") == nil)
        #expect(await slots.acquire("user:2") != nil)
        #expect(slots.count("user:1") == 2)
        first = nil
        #expect(slots.count("user:1") == 1)
        #expect(await slots.acquire("user:1") != nil)
        withExtendedLifetime((first, second)) {}
        #expect(slots.count("user:1") == 1)
        #expect(slots.count("user:2") == 0)
    }

    @Test("a slot freed while a request waits is taken by it")
    func waiter() async throws {
        let slots = GitSlots(limit: 1, wait: .seconds(30))
        let held = Mutex<GitSlots.Slot?>(try #require(await slots.acquire("job:7")))
        async let waited = slots.acquire("job:7")
        try await Task.sleep(for: .milliseconds(120))
        held.withLock { $0 = nil }
        #expect(await waited != nil)
    }

    @Test("past the limit a clone and an archive answer 429 with Retry-After, and go through once a slot is free", arguments: TestBackend.all)
    func refused(backend: TestBackend) async throws {
        try await withTestServer(backend, configure: { $0.gitProcessesPerCredential = 1; $0.gitProcessWait = .milliseconds(200) }) { server, client in
            let (alice, token) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: token)
            try GitFixtures.commit(["README.md": "hello\n"], to: server.environment.repositories.path(projectID: project.id))
            let basic = "Basic " + Data("alice:\(token)".utf8).base64EncodedString()
            func refs() async throws -> TestResponse {
                try await client.execute(uri: "/alice/app.git/info/refs?service=git-upload-pack", method: .get, headers: [.authorization: basic], body: nil) { $0 }
            }
            var held: GitSlots.Slot? = try #require(await server.environment.gitSlots.acquire("user:\(alice.id)"))
            let busy = try await refs()
            #expect(busy.status == .tooManyRequests)
            #expect(busy.headers[.retryAfter] == "10")
            #expect(String(buffer: busy.body).contains("Too many git requests"))
            let archive = try await client.api(.get, "projects/\(project.id)/repository/archive.tar", token: token)
            #expect(archive.status == .tooManyRequests)
            #expect(archive.string("message")?.hasPrefix("429 ") == true)
            held = nil
            withExtendedLifetime(held) {}
            #expect(try await refs().status == .ok)
            #expect(try await client.api(.get, "projects/\(project.id)/repository/archive.tar", token: token).status == .ok)
            #expect(server.environment.gitSlots.count("user:\(alice.id)") == 0)
        }
    }
}
