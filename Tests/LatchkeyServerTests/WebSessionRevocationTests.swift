import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Server-side web sessions")
struct WebSessionRevocationTests {
    @Test("a session cookie replayed after sign-out is no session: it can neither read pages nor change the scope", arguments: TestBackend.all)
    func replayAfterSignOut(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let project = try await client.createProject(["name": "app"], token: server.rootToken).id
            let browser = WebTestBrowser(client)
            try await browser.signIn("root", password: "root-password")
            _ = try await browser.get("/root/app/-/settings/ci_cd")
            let stolenCookie = try #require(browser.cookie)
            let stolenCSRF = browser.csrf
            #expect(!stolenCSRF.isEmpty)
            _ = try await browser.post("/users/sign_out")

            let replay = WebTestBrowser(client)
            replay.cookie = stolenCookie
            let page = try await replay.get("/root/app/-/settings/ci_cd")
            #expect(page.status == .seeOther, "signed out: the page asks to sign in")
            #expect(page.location?.hasPrefix("/users/sign_in") == true)
            let replayAgain = WebTestBrowser(client)
            replayAgain.cookie = stolenCookie
            let change = try await replayAgain.post(
                "/root/app/-/settings/ci_cd/token_access/inbound", [("enabled", "false"), ("authenticity_token", stolenCSRF)], csrf: false)
            #expect(change.status != .seeOther || change.location?.hasPrefix("/users/sign_in") == true, "\(change.status) \(change.location ?? "")")
            #expect(try await server.store.projects.find(id: project)?.jobTokenInboundEnabled == true, "the scope is unchanged")
        }
    }

    @Test("a sealed cookie naming a user but no live server-side session signs no one in", arguments: TestBackend.all)
    func forgedWithoutRecord(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let cookie = SessionCookie(digester: server.environment.digester, secure: false)
            // Sealed with the server's own key (as an old-style cookie, or one whose record was deleted), but with no record.
            let sealed = try cookie.seal(WebSession.fresh(userID: 1))
            let browser = WebTestBrowser(client)
            browser.cookie = sealed
            let dashboard = try await browser.get("/")
            #expect(dashboard.status == .seeOther)
            #expect(dashboard.location?.hasPrefix("/users/sign_in") == true)
        }
    }

    @Test("signing in records the session; signing out deletes it", arguments: TestBackend.all)
    func recordLifecycle(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let browser = WebTestBrowser(client)
            try await browser.signIn("root", password: "root-password")
            let value = try #require(browser.cookie)
            let session = try #require(SessionCookie(digester: server.environment.digester, secure: false).open(value))
            let sessionID = try #require(session.sessionID)
            let userID = try #require(session.userID)
            let digest = server.environment.digester.digest(sessionID)
            #expect(try await server.store.webSessions.isActive(digest: digest, userID: userID))
            #expect(try await browser.get("/").status == .ok)
            _ = try await browser.post("/users/sign_out")
            #expect(try await server.store.webSessions.isActive(digest: digest, userID: userID) == false)
        }
    }
}
