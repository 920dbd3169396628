import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

@Suite("Job token scope API")
struct JobTokenScopeAPITests {
    /// Alice owns `alice/app`; bob is a Developer on it; carol is nobody.
    struct World {
        var alice: User, aliceToken: String
        var bob: User, bobToken: String
        var carol: User, carolToken: String
        var app: Int64
    }

    private func world(_ server: TestServer, _ client: some TestClientProtocol) async throws -> World {
        let (alice, aliceToken) = try await server.makeUser("alice")
        let (bob, bobToken) = try await server.makeUser("bob")
        let (carol, carolToken) = try await server.makeUser("carol")
        let app = try await client.createProject(["name": "app", "visibility": "private"], token: aliceToken).id
        try await client.addMember("projects", app, userID: bob.id, level: Level.developer, token: aliceToken)
        return World(alice: alice, aliceToken: aliceToken, bob: bob, bobToken: bobToken, carol: carol, carolToken: carolToken, app: app)
    }

    private func scope(_ world: World) -> String { "projects/\(world.app)/job_token_scope" }

    @Test("the scope reads and switches, and PATCH insists on a boolean `enabled`", arguments: TestBackend.all)
    func readAndPatch(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let shown = try await client.api(.get, scope(w), token: w.aliceToken)
            #expect(shown.status == .ok)
            #expect(shown.object as NSDictionary == ["inbound_enabled": true, "outbound_enabled": false] as NSDictionary)

            let patched = try await client.api(.patch, scope(w), token: w.aliceToken, json: ["enabled": false])
            #expect(patched.status == .noContent)
            #expect(patched.body.isEmpty)
            #expect(try await client.api(.get, scope(w), token: w.aliceToken).object["inbound_enabled"] as? Bool == false)
            #expect(try await client.api(.patch, scope(w), token: w.aliceToken, form: "enabled=true").status == .noContent)
            #expect(try await client.api(.get, scope(w), token: w.aliceToken).object["inbound_enabled"] as? Bool == true)

            let missing = try await client.api(.patch, scope(w), token: w.aliceToken, json: [:])
            #expect(missing.status == .badRequest)
            #expect(missing.string("error") == "enabled is missing")
            #expect(try await client.api(.patch, scope(w), token: w.aliceToken, json: ["enabled": 123]).status == .badRequest)
            #expect(try await client.api(.patch, scope(w), token: w.aliceToken, json: ["enabled": NSNull()]).status == .badRequest)
            #expect(try await client.api(.patch, scope(w), token: w.aliceToken, json: ["enabled": "maybe"]).status == .badRequest)
        }
    }

    @Test("only Maintainers manage the scope: Developer 403, anonymous 401, bad token 401, outsider 404", arguments: TestBackend.all)
    func refusals(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let routes: [(HTTPRequest.Method, String, [String: any Sendable]?)] = [
                (.get, scope(w), nil), (.patch, scope(w), ["enabled": false]),
                (.get, scope(w) + "/allowlist", nil), (.post, scope(w) + "/allowlist", ["target_project_id": w.app]),
                (.delete, scope(w) + "/allowlist/\(w.app)", nil),
                (.get, scope(w) + "/groups_allowlist", nil), (.post, scope(w) + "/groups_allowlist", ["target_group_id": 1]),
                (.delete, scope(w) + "/groups_allowlist/1", nil),
                (.get, scope(w) + "/authentication_log", nil), (.post, scope(w) + "/autopopulate", nil),
            ]
            for (method, path, json) in routes {
                let developer = try await client.api(method, path, token: w.bobToken, json: json)
                #expect(developer.status == .forbidden, "\(method) \(path) as Developer: \(developer.status)")
                #expect(developer.string("message") == "403 Forbidden")
                let anonymous = try await client.api(method, path, json: json)
                #expect(anonymous.status == .unauthorized || anonymous.status == .notFound, "\(method) \(path) anonymous: \(anonymous.status)")
                #expect(try await client.api(method, path, token: "glpat-not-a-real-token", json: json).status == .unauthorized)
                let outsider = try await client.api(method, path, token: w.carolToken, json: json)
                #expect(outsider.status == .notFound, "\(method) \(path) as outsider: \(outsider.status)")
                #expect(outsider.string("message") == "404 Project Not Found")
            }
            // On a public project an anonymous caller sees that it exists, and is told to sign in.
            let open = try await client.createProject(["name": "open", "visibility": "public"], token: w.aliceToken).id
            #expect(try await client.api(.get, "projects/\(open)/job_token_scope").status == .unauthorized)
            #expect(try await client.api(.get, "projects/\(open)/job_token_scope", token: w.carolToken).status == .forbidden)
            #expect(try await client.api(.get, "projects/999999/job_token_scope", token: w.aliceToken).status == .notFound)
        }
    }

    @Test("the allowlist starts with the project itself and pages like every GitLab list", arguments: TestBackend.all)
    func allowlistListing(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let only = try await client.api(.get, scope(w) + "/allowlist", token: w.aliceToken)
            #expect(only.status == .ok)
            #expect(only.ids == [w.app])
            let first = try await client.createProject(["name": "first"], token: w.aliceToken).id
            let second = try await client.createProject(["name": "second"], token: w.aliceToken).id
            for target in [first, second] {
                #expect(try await client.api(.post, scope(w) + "/allowlist", token: w.aliceToken, json: ["target_project_id": target]).status == .created)
            }
            let all = try await client.api(.get, scope(w) + "/allowlist", token: w.aliceToken)
            #expect(all.ids == [w.app, first, second])
            #expect(all.array.first?["path_with_namespace"] as? String == "alice/app")
            let page = try await client.api(.get, scope(w) + "/allowlist?per_page=2&page=2", token: w.aliceToken)
            #expect(page.ids == [second])
            #expect(page.header("X-Total") == "3")
            #expect(page.header("X-Total-Pages") == "2")
            #expect(page.header("X-Page") == "2")
            #expect(page.header("X-Prev-Page") == "1")
            #expect(page.header("Link")?.contains("rel=\"first\"") == true)
        }
    }

    @Test("adding a project answers 201 with exactly the two ids, and refuses as GitLab does", arguments: TestBackend.all)
    func addProject(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let path = scope(w) + "/allowlist"
            let other = try await client.createProject(["name": "other"], token: w.aliceToken).id
            let added = try await client.api(.post, path, token: w.aliceToken, json: ["target_project_id": other])
            #expect(added.status == .created)
            #expect(added.object as NSDictionary == ["source_project_id": w.app, "target_project_id": other] as NSDictionary)

            let duplicate = try await client.api(.post, path, token: w.aliceToken, form: "target_project_id=\(other)")
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.string("message") == "This project is already in the job token allowlist.")
            let itself = try await client.api(.post, path, token: w.aliceToken, json: ["target_project_id": w.app])
            #expect(itself.status == .badRequest)
            #expect(itself.string("message") == "Target project can't be the same as the source project")
            let unknown = try await client.api(.post, path, token: w.aliceToken, json: ["target_project_id": 987_654])
            #expect(unknown.status == .notFound)
            #expect(unknown.text == #"{"message":"404 target_project_id not found Not Found"}"#)

            let missing = try await client.api(.post, path, token: w.aliceToken, json: [:])
            #expect(missing.status == .badRequest)
            #expect(missing.string("error") == "target_project_id is missing")
            #expect(try await client.api(.post, path, token: w.aliceToken, json: ["target_project_id": ""]).status == .badRequest)
            let notInteger = try await client.api(.post, path, token: w.aliceToken, json: ["target_project_id": "abc"])
            #expect(notInteger.status == .badRequest)
            #expect(notInteger.string("error") == "target_project_id is invalid")
            #expect(try await client.api(.post, path, token: w.aliceToken, json: ["target_project_id": 1.5]).status == .badRequest)

            // Alice needs at least Guest on a private project she adds; without it the project stays hidden.
            let (_, daveToken) = try await server.makeUser("dave")
            let secret = try await client.createProject(["name": "secret", "visibility": "private"], token: daveToken).id
            let hidden = try await client.api(.post, path, token: w.aliceToken, json: ["target_project_id": secret])
            #expect(hidden.status == .notFound)
            #expect(hidden.string("message") == "404 target_project_id not found Not Found")
            try await client.addMember("projects", secret, userID: w.alice.id, level: Level.guest, token: daveToken)
            #expect(try await client.api(.post, path, token: w.aliceToken, json: ["target_project_id": secret]).status == .created)
            // A public project needs no membership.
            let open = try await client.createProject(["name": "open", "visibility": "public"], token: daveToken).id
            #expect(try await client.api(.post, path, token: w.aliceToken, json: ["target_project_id": open]).status == .created)
        }
    }

    @Test("removing a project answers 204, and 404 when it is not listed", arguments: TestBackend.all)
    func removeProject(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let other = try await client.createProject(["name": "other"], token: w.aliceToken).id
            #expect(try await client.api(.post, scope(w) + "/allowlist", token: w.aliceToken, json: ["target_project_id": other]).status == .created)
            let removed = try await client.api(.delete, scope(w) + "/allowlist/\(other)", token: w.aliceToken)
            #expect(removed.status == .noContent)
            #expect(removed.body.isEmpty)
            #expect(try await client.api(.get, scope(w) + "/allowlist", token: w.aliceToken).ids == [w.app])
            let again = try await client.api(.delete, scope(w) + "/allowlist/\(other)", token: w.aliceToken)
            #expect(again.status == .notFound)
            #expect(again.string("message")?.hasPrefix("404") == true)
            #expect(try await client.api(.delete, scope(w) + "/allowlist/abc", token: w.aliceToken).status == .badRequest)
        }
    }

    @Test("the groups allowlist adds, lists, refuses and removes like the project list", arguments: TestBackend.all)
    func groupsAllowlist(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let path = scope(w) + "/groups_allowlist"
            #expect(try await client.api(.get, path, token: w.aliceToken).array.isEmpty)
            let team = try await client.createGroup("team", token: w.aliceToken).id
            let added = try await client.api(.post, path, token: w.aliceToken, json: ["target_group_id": team])
            #expect(added.status == .created)
            #expect(added.object as NSDictionary == ["source_project_id": w.app, "target_group_id": team] as NSDictionary)
            let listed = try await client.api(.get, path, token: w.aliceToken)
            #expect(listed.ids == [team])
            #expect(listed.array.first?["name"] as? String == "Team")
            #expect(listed.array.first?["web_url"] as? String == "http://latchkey.test/groups/team")
            #expect(listed.header("X-Total") == "1")

            let duplicate = try await client.api(.post, path, token: w.aliceToken, json: ["target_group_id": team])
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.string("message") == "This group is already in the job token allowlist.")
            let unknown = try await client.api(.post, path, token: w.aliceToken, json: ["target_group_id": 987_654])
            #expect(unknown.status == .notFound)
            #expect(unknown.string("message") == "404 target_group_id not found Not Found")
            #expect(try await client.api(.post, path, token: w.aliceToken, json: [:]).string("error") == "target_group_id is missing")
            #expect(try await client.api(.post, path, token: w.aliceToken, json: ["target_group_id": "x"]).status == .badRequest)
            let (_, daveToken) = try await server.makeUser("dave")
            let hidden = try await client.createGroup("hidden", token: daveToken).id
            #expect(try await client.api(.post, path, token: w.aliceToken, json: ["target_group_id": hidden]).status == .notFound)

            let removed = try await client.api(.delete, path + "/\(team)", token: w.aliceToken)
            #expect(removed.status == .noContent)
            #expect(removed.body.isEmpty)
            #expect(try await client.api(.get, path, token: w.aliceToken).array.isEmpty)
            #expect(try await client.api(.delete, path + "/\(team)", token: w.aliceToken).status == .notFound)
        }
    }

    @Test("the 201st project or group is refused with GitLab's message", arguments: TestBackend.all)
    func limits(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let namespace = try #require(try await server.store.namespaces.personalNamespace(userID: w.alice.id))
            for index in 0..<AllowlistLimits.projects {
                let project = try await server.store.projects.create(
                    NewProject(name: "p\(index)", path: "p\(index)", namespaceID: namespace.id, visibility: .public, description: "", defaultBranch: "main"),
                    creatorID: w.alice.id)
                try await server.store.jobTokenScope.addProject(project.id, to: w.app, direction: .inbound, addedBy: w.alice.id)
            }
            let extra = try await client.createProject(["name": "extra"], token: w.aliceToken).id
            let refused = try await client.api(.post, scope(w) + "/allowlist", token: w.aliceToken, json: ["target_project_id": extra])
            #expect(refused.status == .badRequest)
            #expect(refused.string("message") == "Source project exceeds the allowable number of project links in this direction")
            #expect(try await client.api(.get, scope(w) + "/allowlist", token: w.aliceToken).header("X-Total") == "201")

            for index in 0..<AllowlistLimits.groups {
                let group = try await server.store.namespaces.createGroup(
                    NewGroup(name: "g\(index)", path: "g\(index)", parentID: nil, visibility: .public, description: ""), creatorID: w.alice.id)
                try await server.store.jobTokenScope.addGroup(group.id, to: w.app, addedBy: w.alice.id)
            }
            let extraGroup = try await client.createGroup("extra-group", visibility: "public", token: w.aliceToken).id
            let refusedGroup = try await client.api(.post, scope(w) + "/groups_allowlist", token: w.aliceToken, json: ["target_group_id": extraGroup])
            #expect(refusedGroup.status == .badRequest)
            #expect(refusedGroup.string("message")?.hasPrefix("Source project exceeds the allowable number of group links") == true)
        }
    }

    @Test("with the instance enforcing the allowlist, the scope shows on and cannot be turned off", arguments: TestBackend.all)
    func enforcement(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            #expect(try await client.api(.patch, scope(w), token: w.aliceToken, json: ["enabled": false]).status == .noContent)
            #expect(try await client.api(.put, "application/settings", token: w.aliceToken, json: ["enforce_ci_inbound_job_token_scope_enabled": true]).status == .forbidden)
            let enforced = try await client.api(.put, "application/settings", token: server.rootToken, json: ["enforce_ci_inbound_job_token_scope_enabled": true])
            #expect(enforced.status == .ok)
            #expect(enforced.object["enforce_ci_inbound_job_token_scope_enabled"] as? Bool == true)
            #expect(try await client.api(.get, scope(w), token: w.aliceToken).object["inbound_enabled"] as? Bool == true)
            let refused = try await client.api(.patch, scope(w), token: w.aliceToken, json: ["enabled": false])
            #expect(refused.status == .badRequest)
            #expect(refused.string("message")?.contains("enforces the job token allowlist") == true)
            #expect(try await client.api(.patch, scope(w), token: w.aliceToken, json: ["enabled": true]).status == .noContent)
            _ = try await client.api(.put, "application/settings", token: server.rootToken, json: ["enforce_ci_inbound_job_token_scope_enabled": false])
            #expect(try await client.api(.patch, scope(w), token: w.aliceToken, json: ["enabled": false]).status == .noContent)
        }
    }

    @Test("every scope change leaves a GitLab-named audit event with its author and details; Maintainers read them", arguments: TestBackend.all)
    func auditEvents(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let other = try await client.createProject(["name": "other"], token: w.aliceToken).id
            let team = try await client.createGroup("team", token: w.aliceToken).id
            _ = try await client.api(.patch, scope(w), token: w.aliceToken, json: ["enabled": false])
            _ = try await client.api(.patch, scope(w), token: w.aliceToken, json: ["enabled": true])
            _ = try await client.api(.post, scope(w) + "/allowlist", token: w.aliceToken, json: ["target_project_id": other])
            _ = try await client.api(.delete, scope(w) + "/allowlist/\(other)", token: w.aliceToken)
            _ = try await client.api(.post, scope(w) + "/groups_allowlist", token: w.aliceToken, json: ["target_group_id": team])
            _ = try await client.api(.delete, scope(w) + "/groups_allowlist/\(team)", token: w.aliceToken)

            let events = try await client.api(.get, "projects/\(w.app)/audit_events", token: w.aliceToken)
            #expect(events.status == .ok)
            let names = events.array.compactMap { $0["event_name"] as? String }
            #expect(names == [
                "secure_ci_job_token_group_removed", "secure_ci_job_token_group_added", "secure_ci_job_token_project_removed",
                "secure_ci_job_token_project_added", "secure_ci_job_token_inbound_enabled", "secure_ci_job_token_inbound_disabled",
            ])
            for event in events.array {
                #expect((event["author_id"] as? NSNumber)?.int64Value == w.alice.id)
                #expect((event["entity_id"] as? NSNumber)?.int64Value == w.app)
                #expect(event["entity_type"] as? String == "Project")
                #expect(event["created_at"] as? String != nil)
            }
            let added = try #require(events.array.first { $0["event_name"] as? String == "secure_ci_job_token_project_added" })
            #expect((added["details"] as? [String: String])?["target"] == "alice/other")
            let groupAdded = try #require(events.array.first { $0["event_name"] as? String == "secure_ci_job_token_group_added" })
            #expect((groupAdded["details"] as? [String: String])?["target"] == "team")
            #expect(events.header("X-Total") == "6")

            #expect(try await client.api(.get, "projects/\(w.app)/audit_events", token: w.bobToken).status == .forbidden)
            #expect(try await client.api(.get, "projects/\(w.app)/audit_events", token: w.carolToken).status == .notFound)
            // Authenticated-only, as GitLab's audit events API: anonymous callers get 401 before any lookup.
            #expect(try await client.api(.get, "projects/\(w.app)/audit_events").status == .unauthorized)
        }
    }

    @Test("the authentication log answers JSON, and CSV by format or Accept", arguments: TestBackend.all)
    func authenticationLog(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let builder = try await client.createProject(["name": "builder"], token: w.aliceToken).id
            let deployer = try await client.createProject(["name": "deployer"], token: w.aliceToken).id
            let earlier = Date(timeIntervalSince1970: 1_700_000_000)
            let later = Date(timeIntervalSince1970: 1_700_000_600)
            try await server.store.jobTokenScope.recordAuthorization(accessed: w.app, origin: builder, at: earlier)
            try await server.store.jobTokenScope.recordAuthorization(accessed: w.app, origin: deployer, at: earlier)
            // One row per pair: a second access moves its time.
            try await server.store.jobTokenScope.recordAuthorization(accessed: w.app, origin: deployer, at: later)

            let log = try await client.api(.get, scope(w) + "/authentication_log", token: w.aliceToken)
            #expect(log.status == .ok)
            #expect(log.array.count == 2)
            let first = try #require(log.array.first)
            #expect((first["origin_project"] as? [String: Any])?["full_path"] as? String == "alice/deployer")
            #expect(first["last_authorized_at"] as? String == "2023-11-14T22:23:20.000Z")
            #expect(log.header("X-Total") == "2")

            let expectedCSV = "Origin Project Path,Last Authorized At (UTC)\nalice/deployer,2023-11-14T22:23:20.000Z\nalice/builder,2023-11-14T22:13:20.000Z\n"
            let byFormat = try await client.api(.get, scope(w) + "/authentication_log?format=csv", token: w.aliceToken)
            #expect(byFormat.status == .ok)
            #expect(byFormat.header("Content-Type")?.hasPrefix("text/csv") == true)
            #expect(byFormat.text == expectedCSV)
            let byAccept = try await client.api(.get, scope(w) + "/authentication_log", token: w.aliceToken, headers: [.accept: "text/csv"])
            #expect(byAccept.text == expectedCSV)
            #expect(byAccept.header("Content-Disposition")?.contains("attachment") == true)
        }
    }

    @Test("autopopulate fills the allowlist from the log and marks its entries", arguments: TestBackend.all)
    func autopopulate(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let builder = try await client.createProject(["name": "builder"], token: w.aliceToken).id
            let deployer = try await client.createProject(["name": "deployer"], token: w.aliceToken).id
            try await server.store.jobTokenScope.recordAuthorization(accessed: w.app, origin: builder)
            try await server.store.jobTokenScope.recordAuthorization(accessed: w.app, origin: deployer)
            #expect(try await client.api(.post, scope(w) + "/allowlist", token: w.aliceToken, json: ["target_project_id": builder]).status == .created)

            let filled = try await client.api(.post, scope(w) + "/autopopulate", token: w.aliceToken)
            #expect(filled.status == .created)
            #expect(filled.object["added_projects"] as? [String] == ["alice/deployer"])
            #expect(Set(try await client.api(.get, scope(w) + "/allowlist", token: w.aliceToken).ids) == [w.app, builder, deployer])
            let entries = try await server.store.jobTokenScope.entries(project: w.app, direction: .inbound)
            let marks = Dictionary(uniqueKeysWithValues: entries.map { ($0.target.fullPath, $0.autopopulated) })
            #expect(marks == ["alice/builder": false, "alice/deployer": true])
            // Nothing new the second time.
            #expect(try await client.api(.post, scope(w) + "/autopopulate", token: w.aliceToken).object["added_projects"] as? [String] == [])
        }
    }

    @Test("autopopulate compacts more than 200 origins to their top-level groups", arguments: TestBackend.all)
    func autopopulateCompacts(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let north = try await server.store.namespaces.createGroup(
                NewGroup(name: "North", path: "north", parentID: nil, visibility: .private, description: ""), creatorID: w.alice.id)
            let south = try await server.store.namespaces.createGroup(
                NewGroup(name: "South", path: "south", parentID: nil, visibility: .private, description: ""), creatorID: w.alice.id)
            let southTools = try await server.store.namespaces.createGroup(
                NewGroup(name: "Tools", path: "tools", parentID: south.id, visibility: .private, description: ""), creatorID: w.alice.id)
            for index in 0...AllowlistLimits.projects {
                let namespace = index % 2 == 0 ? north.id : southTools.id
                let origin = try await server.store.projects.create(
                    NewProject(name: "o\(index)", path: "o\(index)", namespaceID: namespace, visibility: .private, description: "", defaultBranch: "main"),
                    creatorID: w.alice.id)
                try await server.store.jobTokenScope.recordAuthorization(accessed: w.app, origin: origin.id)
            }
            let personal = try await client.createProject(["name": "personal"], token: w.aliceToken).id
            try await server.store.jobTokenScope.recordAuthorization(accessed: w.app, origin: personal)

            let filled = try await client.api(.post, scope(w) + "/autopopulate", token: w.aliceToken)
            #expect(filled.status == .created)
            #expect(filled.object["added_groups"] as? [String] == ["north", "south"])
            #expect(filled.object["added_projects"] as? [String] == ["alice/personal"])
            let entries = try await server.store.jobTokenScope.entries(project: w.app, direction: .inbound)
            #expect(entries.map(\.target.fullPath).sorted() == ["alice/personal", "north", "south"])
            #expect(entries.allSatisfy { $0.autopopulated })
            let groups = try await client.api(.get, scope(w) + "/groups_allowlist", token: w.aliceToken)
            #expect(Set(groups.ids) == [north.id, south.id])
        }
    }
}
