import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
@testable import LatchkeyServer
import LatchkeyStore
import LatchkeyTestSupport
import Testing

@Suite("Web: Settings > CI/CD > Token Access")
struct WebTokenAccessTests {
    static let settings = "/root/app/-/settings/ci_cd"
    static let forms = "/root/app/-/settings/ci_cd/token_access"

    /// root/app (the target) and root/tools (a source), and root signed in on the settings page.
    static func setUp(_ server: TestServer, _ client: any TestClientProtocol) async throws -> (app: Int64, tools: Int64, browser: WebTestBrowser) {
        let app = try await client.createProject(["name": "app"], token: server.rootToken).id
        let tools = try await client.createProject(["name": "tools"], token: server.rootToken).id
        let browser = WebTestBrowser(client)
        try await browser.signIn("root", password: "root-password")
        let page = try await browser.get(settings)
        try #require(page.status == .ok)
        return (app, tools, browser)
    }

    @Test("only Maintainers and up see Settings; others get 404 for the page and its forms", arguments: TestBackend.all)
    func roles(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (app, _, _) = try await Self.setUp(server, client)
            let (developer, _) = try await server.makeUser("dev")
            let (maintainer, _) = try await server.makeUser("mia")
            try await client.addMember("projects", app, userID: developer.id, level: Level.developer, token: server.rootToken)
            try await client.addMember("projects", app, userID: maintainer.id, level: Level.maintainer, token: server.rootToken)
            let dev = WebTestBrowser(client)
            try await dev.signIn("dev", password: "dev-password")
            let project = try await dev.get("/root/app")
            #expect(project.status == .ok)
            #expect(!project.text.contains("/-/settings/ci_cd"), "no Settings link for a Developer")
            #expect(try await dev.get(Self.settings).status == .notFound)
            #expect(try await dev.post("\(Self.forms)/inbound", [("enabled", "false")]).status == .notFound)
            #expect(try await dev.get("\(Self.forms)/authentication_log.csv").status == .notFound)
            #expect(try await server.store.projects.find(id: app)?.jobTokenInboundEnabled == true)
            let mia = WebTestBrowser(client)
            try await mia.signIn("mia", password: "mia-password")
            let page = try await mia.get(Self.settings)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"id="js-token-access""#))
            #expect(page.text.contains("Limit access to this project"))
        }
    }

    @Test("adding a project by path lists it through the API with who added it; mistakes show inline and keep what was typed", arguments: TestBackend.all)
    func addProject(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (app, tools, browser) = try await Self.setUp(server, client)
            let added = try await browser.post("\(Self.forms)/allowlist", [("target_path", " root/tools "), ("permissions", "default")])
            #expect(added.status == .seeOther)
            #expect(added.location == "/root/app/-/settings/ci_cd#js-token-access")
            let allowlist = try await client.api(.get, "projects/\(app)/job_token_scope/allowlist", token: server.rootToken)
            #expect(allowlist.ids == [app, tools])
            let page = try await browser.get(Self.settings).text
            #expect(page.contains("root/tools was added to the allowlist."))
            #expect(page.contains("by @root"))
            let events = try await client.api(.get, "projects/\(app)/audit_events", token: server.rootToken)
            #expect(events.array.contains { $0["event_name"] as? String == "secure_ci_job_token_project_added" })

            let twice = try await browser.post("\(Self.forms)/allowlist", [("target_path", "root/tools"), ("permissions", "default")])
            #expect(twice.status == .unprocessableContent)
            #expect(twice.text.contains("This project is already in the job token allowlist."))
            #expect(twice.text.contains(#"name="target_path" value="root/tools""#))
            let missing = try await browser.post("\(Self.forms)/allowlist", [("target_path", "nobody/<nothing>"), ("permissions", "default")])
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("No project or group at “nobody/&lt;nothing&gt;” that you can see."))
            #expect(missing.text.contains(#"value="nobody/&lt;nothing&gt;""#))
            let empty = try await browser.post("\(Self.forms)/allowlist", [("target_path", ""), ("permissions", "default")])
            #expect(empty.text.contains("Enter the path of a project or a group"))
            let itself = try await browser.post("\(Self.forms)/allowlist", [("target_path", "root/app"), ("permissions", "default")])
            #expect(itself.text.contains("Target project can&#39;t be the same as the source project"))
        }
    }

    @Test("a private project the user cannot see is refused exactly like one that does not exist", arguments: TestBackend.all)
    func invisibleTarget(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let app = try await client.createProject(["name": "app"], token: server.rootToken).id
            let (mia, miaToken) = try await server.makeUser("mia")
            try await client.addMember("projects", app, userID: mia.id, level: Level.maintainer, token: server.rootToken)
            _ = try await client.createProject(["name": "secret"], token: server.rootToken)
            _ = miaToken
            let browser = WebTestBrowser(client)
            try await browser.signIn("mia", password: "mia-password")
            _ = try await browser.get(Self.settings)
            let hidden = try await browser.post("\(Self.forms)/allowlist", [("target_path", "root/secret"), ("permissions", "default")])
            let absent = try await browser.post("\(Self.forms)/allowlist", [("target_path", "root/absent"), ("permissions", "default")])
            #expect(hidden.status == .unprocessableContent)
            #expect(hidden.text.contains("No project or group at “root/secret” that you can see."))
            #expect(absent.text.contains("No project or group at “root/absent” that you can see."))
        }
    }

    @Test("groups and fine-grained permissions are added, edited and removed through the same service as the API", arguments: TestBackend.all)
    func groupsAndPolicies(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (app, tools, browser) = try await Self.setUp(server, client)
            let group = try await client.createGroup("platform", token: server.rootToken).id
            let noPolicy = try await browser.post("\(Self.forms)/allowlist", [("target_path", "platform"), ("permissions", "fine_grained")])
            #expect(noPolicy.status == .unprocessableContent)
            #expect(noPolicy.text.contains("Choose at least one permission"))
            #expect(noPolicy.text.contains(#"name="permissions" value="fine_grained" checked"#), "the choice is kept")
            let added = try await browser.post(
                "\(Self.forms)/allowlist", [("target_path", "platform"), ("permissions", "fine_grained"), ("policy_jobs", "read_jobs"), ("policy_packages", "admin_packages")])
            #expect(added.status == .seeOther)
            let groups = try await client.api(.get, "projects/\(app)/job_token_scope/groups_allowlist", token: server.rootToken)
            #expect(groups.ids == [group])
            let entry = try #require(try await server.store.jobTokenScope.entries(project: app, direction: .inbound).first)
            #expect(entry.grant == AllowlistGrant(defaultPermissions: false, policies: [.readJobs, .adminPackages]))
            let page = try await browser.get(Self.settings).text
            #expect(page.contains("<code>admin_packages</code>") && page.contains("<code>read_jobs</code>"))

            #expect(try await browser.post("\(Self.forms)/allowlist_permissions", [("target_type", "group"), ("target_id", String(group)), ("permissions", "default")]).status == .seeOther)
            #expect(try await server.store.jobTokenScope.entries(project: app, direction: .inbound).first?.grant == AllowlistGrant())

            _ = try await browser.get(Self.settings)
            #expect(try await browser.post("\(Self.forms)/allowlist_remove", [("target_type", "group"), ("target_id", String(group))]).status == .seeOther)
            #expect(try await client.api(.get, "projects/\(app)/job_token_scope/groups_allowlist", token: server.rootToken).ids.isEmpty)
            _ = try await browser.get(Self.settings)
            _ = try await browser.post("\(Self.forms)/allowlist", [("target_path", "root/tools"), ("permissions", "default")])
            _ = try await browser.get(Self.settings)
            #expect(try await browser.post("\(Self.forms)/allowlist_remove", [("target_type", "project"), ("target_id", String(tools))]).status == .seeOther)
            #expect(try await client.api(.get, "projects/\(app)/job_token_scope/allowlist", token: server.rootToken).ids == [app])
            let gone = try await browser.post("\(Self.forms)/allowlist_remove", [("target_type", "project"), ("target_id", String(tools))])
            #expect(try await browser.get(try #require(gone.location)).text.contains("That entry is not on the list any more."))
        }
    }

    @Test("the three switches change the scope; the inbound one refuses to turn off when the instance enforces it", arguments: TestBackend.all)
    func switches(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (app, tools, browser) = try await Self.setUp(server, client)
            #expect(try await browser.post("\(Self.forms)/inbound", [("enabled", "false")]).status == .seeOther)
            var scope = try await client.api(.get, "projects/\(app)/job_token_scope", token: server.rootToken)
            #expect(scope.object["inbound_enabled"] as? Bool == false)
            _ = try await browser.get(Self.settings)
            #expect(try await browser.post("\(Self.forms)/outbound", [("enabled", "true")]).status == .seeOther)
            scope = try await client.api(.get, "projects/\(app)/job_token_scope", token: server.rootToken)
            #expect(scope.object["outbound_enabled"] as? Bool == true)
            _ = try await browser.get(Self.settings)
            #expect(try await browser.post("\(Self.forms)/outbound_allowlist", [("target_path", "root/tools")]).status == .seeOther)
            #expect(try await server.store.jobTokenScope.entries(project: app, direction: .outbound).count == 1)
            _ = try await browser.get(Self.settings)
            #expect(try await browser.post("\(Self.forms)/outbound_remove", [("target_type", "project"), ("target_id", String(tools))]).status == .seeOther)
            #expect(try await server.store.jobTokenScope.entries(project: app, direction: .outbound).isEmpty)
            _ = try await browser.get(Self.settings)
            #expect(try await browser.post("\(Self.forms)/push", [("enabled", "true")]).status == .seeOther)
            #expect(try await server.store.projects.find(id: app)?.jobTokenPushAllowed == true)

            _ = try await client.api(.put, "application/settings", token: server.rootToken, json: ["enforce_ci_inbound_job_token_scope_enabled": true])
            let page = try await browser.get(Self.settings)
            #expect(page.text.contains("Your administrator enforces the allowlist for every project"))
            let refused = try await browser.post("\(Self.forms)/inbound", [("enabled", "false")])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("cannot be turned off"))
        }
    }

    @Test("the authentication log downloads as CSV, and Add all to allowlist adds its projects as auto-added", arguments: TestBackend.all)
    func authenticationLog(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (app, tools, browser) = try await Self.setUp(server, client)
            try await server.store.jobTokenScope.recordAuthorization(accessed: app, origin: tools)
            let page = try await browser.get(Self.settings).text
            #expect(page.contains("root/tools") && page.contains("Not on the allowlist"))
            let csv = try await browser.get("\(Self.forms)/authentication_log.csv")
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.text.hasPrefix("Origin Project Path,Last Authorized At (UTC)\nroot/tools,"))
            #expect(try await browser.post("\(Self.forms)/autopopulate").status == .seeOther)
            let entries = try await server.store.jobTokenScope.entries(project: app, direction: .inbound)
            #expect(entries.count == 1)
            #expect(entries.first?.autopopulated == true)
            let after = try await browser.get(Self.settings).text
            #expect(after.contains("Added 1 project from the authentication log to the allowlist."))
            #expect(after.contains("Auto-added"))
        }
    }
}
