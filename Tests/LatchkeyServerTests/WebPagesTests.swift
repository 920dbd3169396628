import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
@testable import LatchkeyServer
import LatchkeyStore
import LatchkeyTestSupport
import Testing

@Suite("Web pages")
struct WebPagesTests {
    static let ciFile = """
        stages: [build, deploy]
        build:
          stage: build
          script: echo build
        ship:
          stage: deploy
          when: manual
          script: echo ship
        """

    /// root/app with one pipeline (a pending build job and a manual one); returns the project id and the pipeline's jobs.
    static func project(_ server: TestServer, _ client: any TestClientProtocol, description: String = "") async throws -> (Int64, Int64, [Job]) {
        let created = try await client.createProject(["name": "app", "description": description], token: server.rootToken)
        try GitFixtures.commit([".gitlab-ci.yml": ciFile], to: server.environment.repositories.path(projectID: created.id))
        let pipeline = try await client.api(.post, "projects/\(created.id)/pipeline", token: server.rootToken, json: ["ref": "main"])
        try #require(pipeline.status == .created)
        let jobs = try await server.store.jobs.jobs(pipelineID: pipeline.id).items
        return (created.id, pipeline.id, jobs)
    }

    @Test("the sign-in form refuses a wrong password in plain words and keeps the username", arguments: TestBackend.all)
    func signInFailure(backend: TestBackend) async throws {
        try await withTestServer(backend) { _, client in
            let browser = WebTestBrowser(client)
            let form = try await browser.get("/users/sign_in")
            #expect(form.status == .ok)
            #expect(form.headers[.contentType] == "text/html; charset=utf-8")
            #expect(!browser.csrf.isEmpty)
            let refused = try await browser.post("/users/sign_in", [("user[login]", "root"), ("user[password]", "not-it")])
            #expect(refused.status == .unauthorized)
            #expect(refused.text.contains("Invalid login or password."))
            #expect(refused.text.contains(#"name="user[login]" value="root""#))
            #expect(!refused.text.contains("not-it"))
            let empty = try await browser.post("/users/sign_in", [("user[login]", "root"), ("user[password]", "")])
            #expect(empty.status == .unprocessableContent)
            #expect(empty.text.contains("Enter your username and your password."))
        }
    }

    @Test("signing in sets an HttpOnly, SameSite=Lax session cookie; signing out ends the session", arguments: TestBackend.all)
    func signInAndOut(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            _ = try await client.createProject(["name": "app"], token: server.rootToken)
            let browser = WebTestBrowser(client)
            #expect(try await browser.get("/").location?.hasPrefix("/users/sign_in") == true)
            let signedIn = try await browser.signIn("root", password: "root-password")
            #expect(signedIn.location == "/")
            let setCookie = try #require(signedIn.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly"))
            #expect(setCookie.contains("SameSite=Lax"))
            #expect(!setCookie.contains("Secure"), "the test server's external URL is http")
            let projects = try await browser.get("/")
            #expect(projects.status == .ok)
            #expect(projects.text.contains("Signed in successfully."))
            #expect(projects.text.contains(#"href="/root/app""#))
            let out = try await browser.post("/users/sign_out")
            #expect(out.status == .seeOther)
            #expect(try await browser.get("/").status == .seeOther)
        }
    }

    @Test("a sign-in returns to the page that asked for it, and never to another site", arguments: TestBackend.all)
    func signInRedirect(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            _ = try await client.createProject(["name": "app"], token: server.rootToken)
            let browser = WebTestBrowser(client)
            let asked = try await browser.get("/root/app/-/pipelines")
            #expect(asked.location == "/users/sign_in?redirect_to=%2Froot%2Fapp%2F%2D%2Fpipelines")
            _ = try await browser.get(try #require(asked.location))
            let back = try await browser.post("/users/sign_in", [("user[login]", "root"), ("user[password]", "root-password"), ("redirect_to", "/root/app/-/pipelines")])
            #expect(back.location == "/root/app/-/pipelines")
            let other = WebTestBrowser(client)
            _ = try await other.get("/users/sign_in")
            let away = try await other.post("/users/sign_in", [("user[login]", "root"), ("user[password]", "root-password"), ("redirect_to", "//evil.example/")])
            #expect(away.location == "/")
        }
    }

    @Test("a POST without the session's CSRF token is refused with a plain 403 and changes nothing", arguments: TestBackend.all)
    func csrfRefusal(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let created = try await client.createProject(["name": "app"], token: server.rootToken)
            let browser = WebTestBrowser(client)
            let noToken = try await browser.post("/users/sign_in", [("user[login]", "root"), ("user[password]", "root-password")], csrf: false)
            #expect(noToken.status == .forbidden)
            #expect(noToken.text.contains("403 Forbidden"))
            try await browser.signIn("root", password: "root-password")
            _ = try await browser.get("/root/app/-/settings/ci_cd")
            let forged = try await browser.post("/root/app/-/settings/ci_cd/token_access/inbound", [("enabled", "false"), ("authenticity_token", String(repeating: "0", count: 64))], csrf: false)
            #expect(forged.status == .forbidden)
            #expect(try await server.store.projects.find(id: created.id)?.jobTokenInboundEnabled == true)
        }
    }

    @Test("a cookie this server did not seal is no session", arguments: TestBackend.all)
    func forgedCookie(backend: TestBackend) async throws {
        try await withTestServer(backend) { _, client in
            let browser = WebTestBrowser(client)
            browser.cookie = "eyJ1c2VySUQiOjF9"
            let response = try await browser.get("/")
            #expect(response.status == .seeOther)
        }
    }

    @Test("sign-in is rate limited per username and address after five failures", arguments: TestBackend.all)
    func signInRateLimit(backend: TestBackend) async throws {
        try await withTestServer(backend) { _, client in
            let browser = WebTestBrowser(client)
            _ = try await browser.get("/users/sign_in")
            for _ in 0..<5 {
                #expect(try await browser.post("/users/sign_in", [("user[login]", "root"), ("user[password]", "wrong")]).status == .unauthorized)
            }
            let limited = try await browser.post("/users/sign_in", [("user[login]", "root"), ("user[password]", "root-password")])
            #expect(limited.status == .tooManyRequests)
            #expect(limited.text.contains("Too many failed sign-in attempts"))
        }
    }

    @Test("project, pipelines, pipeline, job and raw log pages show to members, 404 to others, and ask visitors to sign in", arguments: TestBackend.all)
    func projectPages(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, pipelineID, jobs) = try await Self.project(server, client)
            let build = try #require(jobs.first { $0.name == "build" })
            try server.environment.traces.append(jobID: build.id, Array("\u{1B}[32;1m$ echo build\u{1B}[0;m\nbuild <ok>\n".utf8))
            let pages = ["/root/app", "/root/app/-/pipelines", "/root/app/-/pipelines/\(pipelineID)", "/root/app/-/jobs/\(build.id)", "/root/app/-/jobs/\(build.id)/raw"]
            let root = WebTestBrowser(client)
            try await root.signIn("root", password: "root-password")
            for page in pages { #expect(try await root.get(page).status == .ok, "\(page)") }
            let pipeline = try await root.get("/root/app/-/pipelines/\(pipelineID)").text
            #expect(pipeline.contains(">build</a>") || pipeline.contains(" build</a>"))
            #expect(pipeline.contains(" ship</a>"))
            let job = try await root.get("/root/app/-/jobs/\(build.id)").text
            #expect(job.contains("build &lt;ok&gt;"), "the trace is escaped and its colours removed")
            #expect(!job.contains("\u{1B}"))
            #expect(job.contains(#"http-equiv="refresh""#), "a pending job's page follows it without JavaScript")
            #expect(try await root.get("/root/app/-/pipelines/999999").status == .notFound)
            #expect(try await root.get("/root/app/-/jobs/999999").status == .notFound)

            _ = try await server.makeUser("eve")
            let eve = WebTestBrowser(client)
            try await eve.signIn("eve", password: "eve-password")
            for page in pages { #expect(try await eve.get(page).status == .notFound, "\(page)") }
            let visitor = WebTestBrowser(client)
            for page in pages { #expect(try await visitor.get(page).location?.hasPrefix("/users/sign_in?redirect_to=") == true, "\(page)") }
        }
    }

    @Test("what users typed is HTML-escaped on every page", arguments: TestBackend.all)
    func escaping(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            _ = try await Self.project(server, client, description: "<script>alert(1)</script>")
            let browser = WebTestBrowser(client)
            try await browser.signIn("root", password: "root-password")
            for page in ["/", "/root/app"] {
                let text = try await browser.get(page).text
                #expect(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "\(page)")
                #expect(!text.contains("<script>alert(1)"), "\(page)")
            }
        }
    }

    @Test("play, cancel and retry buttons show and work by role, as the jobs API does", arguments: TestBackend.all)
    func jobButtons(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (projectID, _, jobs) = try await Self.project(server, client)
            let build = try #require(jobs.first { $0.name == "build" })
            let ship = try #require(jobs.first { $0.name == "ship" })
            let (reporter, _) = try await server.makeUser("rita")
            let (developer, _) = try await server.makeUser("dev")
            try await client.addMember("projects", projectID, userID: reporter.id, level: Level.reporter, token: server.rootToken)
            try await client.addMember("projects", projectID, userID: developer.id, level: Level.developer, token: server.rootToken)

            let rita = WebTestBrowser(client)
            try await rita.signIn("rita", password: "rita-password")
            let seen = try await rita.get("/root/app/-/jobs/\(build.id)")
            #expect(seen.status == .ok)
            #expect(!seen.text.contains("/cancel\""))
            #expect(try await rita.post("/root/app/-/jobs/\(build.id)/cancel").status == .notFound)
            #expect(try await server.store.jobs.find(id: build.id)?.status == build.status)

            let dev = WebTestBrowser(client)
            try await dev.signIn("dev", password: "dev-password")
            #expect(try await dev.get("/root/app/-/jobs/\(build.id)").text.contains("/jobs/\(build.id)/cancel\""))
            let canceled = try await dev.post("/root/app/-/jobs/\(build.id)/cancel")
            #expect(canceled.status == .seeOther)
            #expect(try await server.store.jobs.find(id: build.id)?.status == .canceled)
            #expect(try await dev.get(try #require(canceled.location)).text.contains("The job was canceled."))
            let retried = try await dev.post("/root/app/-/jobs/\(build.id)/retry")
            #expect(retried.status == .seeOther)
            let newID = try #require(retried.location.flatMap { Int64($0.split(separator: "/").last ?? "") })
            #expect(newID != build.id)
            #expect(try await server.store.jobs.find(id: newID)?.userID == developer.id)
            _ = try await dev.get("/root/app/-/jobs/\(ship.id)")
            #expect(try await dev.post("/root/app/-/jobs/\(ship.id)/play").status == .seeOther)
            #expect(try await server.store.jobs.find(id: ship.id)?.status != .manual)
            let again = try await dev.post("/root/app/-/jobs/\(ship.id)/play")
            #expect(try await dev.get(try #require(again.location)).text.contains("This job is not waiting to be played."))
        }
    }

    @Test("artifacts download through the page for readers of the job", arguments: TestBackend.all)
    func artifactsDownload(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (projectID, _, jobs) = try await Self.project(server, client)
            let build = try #require(jobs.first { $0.name == "build" })
            let relative = "test/\(build.id)-artifacts.zip"
            let url = server.environment.settings.artifactsDirectory.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("PK-not-really-a-zip".utf8).write(to: url)
            _ = try await server.store.artifacts.save(
                jobID: build.id, projectID: projectID, fileType: "archive", fileFormat: "zip", filename: "artifacts.zip", size: 19, storagePath: relative, expireAt: nil)
            let browser = WebTestBrowser(client)
            try await browser.signIn("root", password: "root-password")
            #expect(try await browser.get("/root/app/-/jobs/\(build.id)").text.contains("/root/app/-/jobs/\(build.id)/artifacts/download"))
            let download = try await browser.get("/root/app/-/jobs/\(build.id)/artifacts/download")
            #expect(download.status == .ok)
            #expect(download.text == "PK-not-really-a-zip")
            _ = try await server.makeUser("eve")
            let eve = WebTestBrowser(client)
            try await eve.signIn("eve", password: "eve-password")
            #expect(try await eve.get("/root/app/-/jobs/\(build.id)/artifacts/download").status == .notFound)
        }
    }

    @Test("the admin area is for administrators; it shows the registration token and flips the instance enforcement", arguments: TestBackend.all)
    func adminArea(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            _ = try await server.makeUser("eve")
            let eve = WebTestBrowser(client)
            try await eve.signIn("eve", password: "eve-password")
            for page in ["/admin", "/admin/users", "/admin/groups", "/admin/runners", "/admin/application_settings/ci_cd"] {
                #expect(try await eve.get(page).status == .notFound, "\(page)")
            }
            _ = try await eve.get("/")
            #expect(try await eve.post("/admin/application_settings/ci_cd", [("enforced", "true")]).status == .notFound)

            let root = WebTestBrowser(client)
            try await root.signIn("root", password: "root-password")
            #expect(try await root.get("/admin").status == .ok)
            #expect(try await root.get("/admin/users").text.contains("@eve"))
            #expect(try await root.get("/admin/groups").status == .ok)
            let token = try await server.environment.registrationToken()
            #expect(try await root.get("/admin/runners").text.contains(token))
            _ = try await root.get("/admin/application_settings/ci_cd")
            #expect(try await root.post("/admin/application_settings/ci_cd", [("enforced", "true")]).status == .seeOther)
            let settings = try await client.api(.get, "application/settings", token: server.rootToken)
            #expect(settings.object["enforce_ci_inbound_job_token_scope_enabled"] as? Bool == true)
        }
    }

    @Test("unknown API routes keep GitLab's JSON 404; unknown pages get an HTML one", arguments: TestBackend.all)
    func notFound(backend: TestBackend) async throws {
        try await withTestServer(backend) { _, client in
            let api = try await client.api(.get, "/api/v4/no-such-route")
            #expect(api.status == .notFound)
            #expect(api.headers[.contentType] == "application/json")
            let browser = WebTestBrowser(client)
            let anonymous = try await browser.get("/favicon.ico")
            #expect(anonymous.status == .notFound)
            #expect(anonymous.headers[.contentType] == "text/html; charset=utf-8")
            try await browser.signIn("root", password: "root-password")
            let page = try await browser.get("/no/such/page")
            #expect(page.status == .notFound)
            #expect(page.text.contains("Page not found"))
            #expect(try await browser.get("/assets/latchkey.css").headers[.contentType] == "text/css; charset=utf-8")
        }
    }
}
