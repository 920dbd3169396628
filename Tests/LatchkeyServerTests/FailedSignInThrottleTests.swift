import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Failed sign-in throttling")
struct FailedSignInThrottleTests {
    static func allowed(
        _ throttle: FailedAttemptThrottle, account: String, address: String?, rule: FailedAttemptThrottle.Rule, now: Date = Date()
    ) async throws -> Bool {
        try await throttle.attempt(account: account, address: address, rule: rule, now: now) != nil
    }

    @Test("concurrent wrong passwords on the web form are all counted: no more than five get past the limit", arguments: TestBackend.all)
    func concurrentWebSignIns(backend: TestBackend) async throws {
        try await withTestServer(backend) { _, client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        let browser = WebTestBrowser(client)
                        _ = try await browser.get("/users/sign_in")
                        return try await browser.post("/users/sign_in", [("user[login]", "root"), ("user[password]", "wrong")]).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count <= 5, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count >= 25, "\(statuses)")
        }
    }

    @Test("the count lives in the database: a second server over the same store sees the first one's failures", arguments: TestBackend.all)
    func sharedBetweenInstances(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, _ in
            let first = FailedAttemptThrottle(store: server.store)
            for _ in 0..<5 {
                let allowed = try await Self.allowed(first, account: "root", address: "10.0.0.1", rule: .webSignIn)
                #expect(allowed)
            }
            let second = FailedAttemptThrottle(store: server.store)
            #expect(try await Self.allowed(second, account: "ROOT", address: "10.0.0.2", rule: .webSignIn) == false, "per account, from every source")
            #expect(try await Self.allowed(second, account: "alice", address: "10.0.0.3", rule: .webSignIn))
        }
    }

    @Test("per address too, except loopback; a success gives its slot back")
    func perAddress() async throws {
        try await withTestServer { server, _ in
            let throttle = FailedAttemptThrottle(store: server.store)
            for index in 0..<5 { #expect(try await throttle.attempt(account: "user\(index)", address: "10.0.0.9", rule: .webSignIn) != nil) }
            #expect(try await Self.allowed(throttle, account: "other", address: "10.0.0.9", rule: .webSignIn) == false)
            for index in 0..<8 { #expect(try await throttle.attempt(account: "local\(index)", address: "127.0.0.1", rule: .webSignIn) != nil) }
            for _ in 0..<10 {
                let slot = try #require(try await throttle.attempt(account: "carol", address: nil, rule: .webSignIn))
                try await throttle.succeeded(slot)
            }
        }
    }

    @Test("git Basic passwords: after 10 failures in a minute the account is refused for an hour, even with the right password", arguments: TestBackend.all)
    func gitBasicBan(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            _ = try await client.createProject(["name": "app"], token: server.rootToken)
            func clone(_ password: String) async throws -> HTTPResponse.Status {
                let headers: HTTPFields = [.authorization: "Basic " + Data("root:\(password)".utf8).base64EncodedString()]
                return try await client.api(.get, "/root/app.git/info/refs?service=git-upload-pack", headers: headers).status
            }
            #expect(try await clone("root-password") == .ok)
            // One failure over HTTP, then nine more straight through the store, dated when the HTTP one began: its slot is
            // taken at or after `before`, so all ten fall in one window however long a loaded machine takes to answer (a
            // parallel PostgreSQL run once queued the bcrypt checks for minutes).
            let throttle = FailedAttemptThrottle(store: server.store)
            let before = Date()
            #expect(try await clone("wrong") == .unauthorized)
            for _ in 0..<9 { #expect(try await throttle.attempt(account: "root", address: nil, rule: .basic, now: before) != nil) }
            #expect(try await throttle.attempt(account: "root", address: nil, rule: .basic, now: before) == nil, "the HTTP failure counted: this is the 11th")
            #expect(try await clone("root-password") == .unauthorized, "banned: the right password is not even checked")
            #expect(try await throttle.attempt(account: "root", address: nil, rule: .basic, now: Date().addingTimeInterval(1800)) == nil)
            #expect(try await throttle.attempt(account: "root", address: nil, rule: .basic, now: Date().addingTimeInterval(3700)) != nil)
        }
    }
}
