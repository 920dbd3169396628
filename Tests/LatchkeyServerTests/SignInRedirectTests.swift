import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Sign-in redirects")
struct SignInRedirectTests {
    @Test(
        "a redirect target that a browser would read as another site falls back to /",
        arguments: [
            "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "//evil.example", "/\\evil.example", "/a\\b", "\\\\evil.example",
            "https://evil.example/", "evil.example", "/\u{0}/evil.example", "/\u{7F}x", "/\u{85}x", "/ /evil.example", "", "/x\u{2028}y",
        ])
    func refusesOtherSites(target: String) {
        #expect(WebPages.localPath(target) == "/", "\(target.debugDescription)")
    }

    @Test("a path on this site is kept", arguments: ["/", "/root/app/-/pipelines", "/root/app/-/jobs/3?page=2#log", "/a/b%2Fc"])
    func keepsLocalPaths(target: String) {
        #expect(WebPages.localPath(target) == target)
    }

    @Test("signing in with redirect_to=/<tab>/evil.example lands on /, never on another site", arguments: TestBackend.all)
    func tabRedirect(backend: TestBackend) async throws {
        try await withTestServer(backend) { _, client in
            let browser = WebTestBrowser(client)
            let form = try await browser.get("/users/sign_in?redirect_to=%2F%09%2Fevil.example")
            #expect(!form.text.contains("evil.example"))
            let signedIn = try await browser.post(
                "/users/sign_in", [("user[login]", "root"), ("user[password]", "root-password"), ("redirect_to", "/\t/evil.example")])
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.location == "/")
        }
    }
}
