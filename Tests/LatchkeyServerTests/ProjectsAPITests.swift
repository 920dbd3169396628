import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

@Suite("Projects API")
struct ProjectsAPITests {
    @Test("a project made from a name alone gets a path, from a path alone a name, and a bare repository", arguments: TestBackend.all)
    func createFromNameOrPath(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let named = try await client.createProject(["name": "My Project"], token: alice)
            #expect(named.string("path") == "my-project")
            #expect(named.string("path_with_namespace") == "alice/my-project")
            #expect(named.string("name_with_namespace") == "Alice / My Project")
            #expect(named.string("visibility") == "private")
            #expect(named.string("default_branch") == "main")
            #expect(named.object["empty_repo"] as? Bool == true)
            #expect((named.object["namespace"] as? [String: Any])?["kind"] as? String == "user")
            #expect(named.string("http_url_to_repo") == "http://latchkey.test/alice/my-project.git")
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: server.environment.repositories.path(projectID: named.id).path, isDirectory: &isDirectory))
            #expect(isDirectory.boolValue)

            let pathed = try await client.createProject(["path": "tools"], token: alice)
            #expect(pathed.string("name") == "tools")
            #expect(pathed.string("path_with_namespace") == "alice/tools")

            let neither = try await client.api(.post, "projects", token: alice, json: ["description": "x"])
            #expect(neither.status == .badRequest)
            #expect(neither.string("error") == "name, path are missing, at least one parameter must be provided")
            let badPath = try await client.api(.post, "projects", token: alice, json: ["path": "-bad"])
            #expect(badPath.status == .badRequest)
            #expect(badPath.problems["path"] != nil)
            #expect(try await client.api(.post, "projects", json: ["name": "anonymous"]).status == .unauthorized)
        }
    }

    @Test("a duplicate path answers 400 with Rails' validation body, also when only the case differs", arguments: TestBackend.all)
    func duplicate(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            _ = try await client.createProject(["name": "app"], token: alice)
            for name in ["app", "App"] {
                let again = try await client.api(.post, "projects", token: alice, json: ["name": name])
                #expect(again.status == .badRequest)
                #expect(again.problems["path"] == ["has already been taken"])
                #expect(again.problems["name"] == ["has already been taken"])
            }
        }
    }

    @Test("a project in a group namespace needs Developer there; non-members of a private group get 404", arguments: TestBackend.all)
    func groupNamespace(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let group = try await client.createGroup("team", token: alice)
            let project = try await client.createProject(["name": "app", "namespace_id": group.id], token: alice)
            #expect(project.string("path_with_namespace") == "team/app")
            let namespace = try #require(project.object["namespace"] as? [String: Any])
            #expect(namespace["kind"] as? String == "group")
            #expect(namespace["full_path"] as? String == "team")

            let outsider = try await client.api(.post, "projects", token: bobToken, json: ["name": "mine", "namespace_id": group.id])
            #expect(outsider.status == .notFound)
            try await client.addMember("groups", group.id, userID: bob.id, level: Level.reporter, token: alice)
            let reporter = try await client.api(.post, "projects", token: bobToken, json: ["name": "mine", "namespace_id": group.id])
            #expect(reporter.status == .badRequest)
            #expect(reporter.problems["namespace"] == ["is not valid"])
            try #require(
                try await client.api(.put, "groups/\(group.id)/members/\(bob.id)", token: alice, json: ["access_level": Level.developer]).status
                    == .ok)
            let developer = try await client.createProject(["name": "mine", "namespace_id": group.id], token: bobToken)
            #expect(developer.string("path_with_namespace") == "team/mine")

            let someoneElse = try await client.api(.post, "projects", token: bobToken, json: ["name": "x", "namespace_id": 999_999])
            #expect(someoneElse.status == .notFound)
            let alicePersonal = try #require(try await server.store.namespaces.namespace(fullPath: "alice"))
            let intoAlice = try await client.api(.post, "projects", token: bobToken, json: ["name": "x", "namespace_id": alicePersonal.id])
            #expect(intoAlice.status == .badRequest)
        }
    }

    @Test("a group project's visibility cannot exceed its group's, on create or update", arguments: TestBackend.all)
    func visibilityRules(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let group = try await client.createGroup("team", visibility: "internal", token: alice)
            let publicProject = try await client.api(
                .post, "projects", token: alice, json: ["name": "app", "namespace_id": group.id, "visibility": "public"])
            #expect(publicProject.status == .badRequest)
            #expect(publicProject.problems["visibility_level"] == ["public is not allowed in a internal group."])
            let inner = try await client.createProject(["name": "app", "namespace_id": group.id, "visibility": "internal"], token: alice)
            #expect(inner.string("visibility") == "internal")
            let raised = try await client.api(.put, "projects/\(inner.id)", token: alice, json: ["visibility": "public"])
            #expect(raised.status == .badRequest)
            #expect(raised.problems["visibility_level"] != nil)
            let lowered = try await client.api(.put, "projects/\(inner.id)", token: alice, json: ["visibility": "private"])
            #expect(lowered.status == .ok)
            #expect(lowered.string("visibility") == "private")
            let personal = try await client.createProject(["name": "open", "visibility": "public"], token: alice)
            #expect(personal.string("visibility") == "public")
            let nonsense = try await client.api(.post, "projects", token: alice, json: ["name": "odd", "visibility": "secret"])
            #expect(nonsense.status == .badRequest)
            #expect(nonsense.string("error") == "visibility does not have a valid value")
        }
    }

    @Test("listing honours visibility and the owned, membership, search and visibility filters", arguments: TestBackend.all)
    func listFilters(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let secret = try await client.createProject(["name": "secret"], token: alice)
            let open = try await client.createProject(["name": "open", "visibility": "public"], token: alice)
            let group = try await client.createGroup("team", visibility: "internal", token: alice)
            let inner = try await client.createProject(["name": "inner", "namespace_id": group.id, "visibility": "internal"], token: alice)
            let hidden = try await client.createProject(["name": "hidden", "namespace_id": group.id], token: alice)
            let bobs = try await client.createProject(["name": "bobs"], token: bobToken)

            func ids(_ query: String, _ token: String?) async throws -> Set<Int64> {
                let response = try await client.api(.get, "projects" + query, token: token)
                try #require(response.status == .ok, "\(query): \(response.text)")
                return Set(response.ids)
            }
            #expect(try await ids("", nil) == [open.id])
            #expect(try await ids("", bobToken) == [open.id, inner.id, bobs.id])
            #expect(try await ids("", alice) == [secret.id, open.id, inner.id, hidden.id])
            #expect(try await ids("", server.rootToken) == [secret.id, open.id, inner.id, hidden.id, bobs.id])
            #expect(try await ids("?owned=true", bobToken) == [bobs.id])
            #expect(try await ids("?owned=true", alice) == [secret.id, open.id, inner.id, hidden.id])
            #expect(try await ids("?membership=true", bobToken) == [bobs.id])
            #expect(try await ids("?membership=true", alice) == [secret.id, open.id, inner.id, hidden.id])
            #expect(try await ids("?membership=true", server.rootToken) == [])
            #expect(try await ids("?search=inn", bobToken) == [inner.id])
            #expect(try await ids("?search=team%2Fh", alice) == [hidden.id])
            #expect(try await ids("?search=team", alice) == [inner.id, hidden.id])
            #expect(try await ids("?visibility=internal", bobToken) == [inner.id])
            #expect(try await ids("?visibility=private", bobToken) == [bobs.id])

            try await client.addMember("projects", hidden.id, userID: bob.id, level: Level.guest, token: alice)
            #expect(try await ids("?membership=true", bobToken) == [bobs.id, hidden.id])
            #expect(try await ids("", bobToken) == [open.id, inner.id, bobs.id, hidden.id])
            #expect(try await client.api(.get, "projects?visibility=nope", token: bobToken).status == .badRequest)
        }
    }

    @Test("query parameters are read as requests encodes them: '+' for spaces, percent-encoded keys")
    func queryEncoding() async throws {
        try await withTestServer { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let big = try await client.createProject(["name": "Big Data"], token: alice)
            let small = try await client.createProject(["name": "Small"], token: alice)
            #expect(try await client.api(.get, "projects?search=big+data", token: alice).ids == [big.id])
            #expect(try await client.api(.get, "projects?search=big%20data", token: alice).ids == [big.id])
            #expect(try await client.api(.get, "projects?order%5Fby=name&sort=asc", token: alice).ids == [big.id, small.id])
            #expect(try await client.api(.get, "projects?order_by=name&sort=desc&per%5Fpage=1", token: alice).ids == [small.id])
            // Rack's array fields, as form posts send lists.
            let (user, _) = try await server.makeUser("bob")
            let minted = try await client.api(
                .post, "users/\(user.id)/personal_access_tokens", token: server.rootToken,
                form: "name=ci&scopes%5B%5D=read_api&scopes[]=read_repository")
            #expect(minted.status == .created)
            #expect(Set(minted.object["scopes"] as? [String] ?? []) == ["read_api", "read_repository"])
        }
    }

    @Test("listing sorts by order_by and sort and walks pages with GitLab's headers", arguments: TestBackend.all)
    func orderAndPages(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            var created: [Int64] = []
            for name in ["charlie", "alpha", "bravo"] { created.append(try await client.createProject(["name": name], token: alice).id) }
            let byName = try await client.api(.get, "projects?order_by=name&sort=asc", token: alice)
            #expect(byName.array.map { $0["name"] as? String } == ["alpha", "bravo", "charlie"])
            let byNameDesc = try await client.api(.get, "projects?order_by=name&sort=desc", token: alice)
            #expect(byNameDesc.array.map { $0["name"] as? String } == ["charlie", "bravo", "alpha"])
            let newest = try await client.api(.get, "projects", token: alice)
            #expect(newest.ids == created.reversed())
            let byID = try await client.api(.get, "projects?order_by=id&sort=asc", token: alice)
            #expect(byID.ids == created)
            #expect(try await client.api(.get, "projects?order_by=stars", token: alice).status == .badRequest)
            #expect(try await client.api(.get, "projects?sort=sideways", token: alice).status == .badRequest)

            let first = try await client.api(.get, "projects?order_by=id&sort=asc&per_page=2", token: alice)
            #expect(first.ids == Array(created.prefix(2)))
            #expect(first.header("X-Page") == "1")
            #expect(first.header("X-Per-Page") == "2")
            #expect(first.header("X-Total") == "3")
            #expect(first.header("X-Total-Pages") == "2")
            #expect(first.header("X-Next-Page") == "2")
            let link = try #require(first.header("Link"))
            #expect(link.contains("rel=\"next\""))
            #expect(link.contains("page=2"))
            #expect(link.contains("order_by=id"))
            #expect(link.hasPrefix("<http://latchkey.test/api/v4/projects?"))
            let second = try await client.api(.get, "projects?order_by=id&sort=asc&per_page=2&page=2", token: alice)
            #expect(second.ids == [created[2]])
            #expect(second.header("X-Next-Page") == "")
            #expect(second.header("X-Prev-Page") == "1")
            let beyond = try await client.api(.get, "projects?per_page=2&page=5", token: alice)
            #expect(beyond.status == .ok)
            #expect(beyond.array.isEmpty)
        }
    }

    @Test("a project is found by id and by its URL-encoded full path", arguments: TestBackend.all)
    func showByIDAndPath(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let top = try await client.createGroup("group", token: alice)
            let sub = try await client.createGroup("sub", parent: top.id, token: alice)
            let project = try await client.createProject(["name": "project", "namespace_id": sub.id], token: alice)
            let byID = try await client.api(.get, "projects/\(project.id)", token: alice)
            #expect(byID.status == .ok)
            #expect(byID.string("path_with_namespace") == "group/sub/project")
            let byPath = try await client.api(.get, "projects/group%2Fsub%2Fproject", token: alice)
            #expect(byPath.status == .ok)
            #expect(byPath.id == project.id)
            let byLowerCasePath = try await client.api(.get, "projects/GROUP%2Fsub%2FProject", token: alice)
            #expect(byLowerCasePath.id == project.id)
            let missing = try await client.api(.get, "projects/group%2Fsub%2Fnope", token: alice)
            #expect(missing.status == .notFound)
            #expect(missing.string("message") == "404 Project Not Found")
            #expect(try await client.api(.get, "projects/999999", token: alice).status == .notFound)
        }
    }

    @Test("a private project is 404, never 403, to non-members and anonymous callers on every route", arguments: TestBackend.all)
    func privateIsHidden(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (_, bob) = try await server.makeUser("bob")
            let project = try await client.createProject(["name": "secret"], token: alice)
            for token in [bob, nil] {
                for (method, path) in [
                    (HTTPRequest.Method.get, "projects/\(project.id)"), (.get, "projects/alice%2Fsecret"), (.put, "projects/\(project.id)"),
                    (.delete, "projects/\(project.id)"), (.get, "projects/\(project.id)/members"), (.get, "projects/\(project.id)/pipelines"),
                    (.get, "projects/\(project.id)/repository/branches"),
                ] {
                    let response = try await client.api(method, path, token: token, json: method == .put ? ["name": "x"] : nil)
                    // GitLab authenticates before it looks: anonymous writes and authenticated-only APIs (members) answer 401 first.
                    if token == nil, method != .get || path.hasSuffix("/members") {
                        #expect(response.status == .unauthorized, "\(method) \(path) as anonymous")
                        continue
                    }
                    #expect(response.status == .notFound, "\(method) \(path) as \(token == nil ? "anonymous" : "bob")")
                    #expect(response.string("message") == "404 Project Not Found")
                }
            }
            #expect(try await client.api(.get, "projects/\(project.id)", token: server.rootToken).status == .ok)
        }
    }

    @Test("a Maintainer may change a project; a Developer gets 403", arguments: TestBackend.all)
    func update(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (maintainer, maintainerToken) = try await server.makeUser("maya")
            let (developer, developerToken) = try await server.makeUser("dev")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: maintainer.id, level: Level.maintainer, token: alice)
            try await client.addMember("projects", project.id, userID: developer.id, level: Level.developer, token: alice)

            let changed = try await client.api(
                .put, "projects/\(project.id)", token: maintainerToken, json: ["description": "new words", "name": "App 2"])
            #expect(changed.status == .ok)
            #expect(changed.string("description") == "new words")
            #expect(changed.string("name") == "App 2")
            #expect(changed.string("path") == "app")
            let refused = try await client.api(.put, "projects/\(project.id)", token: developerToken, json: ["description": "mine"])
            #expect(refused.status == .forbidden)
            #expect(refused.string("message") == "403 Forbidden")
            let blank = try await client.api(.put, "projects/\(project.id)", token: maintainerToken, json: ["name": ""])
            #expect(blank.status == .badRequest)
            let reread = try await client.api(.get, "projects/\(project.id)", token: developerToken)
            #expect(reread.string("description") == "new words")
        }
    }

    @Test("only an Owner deletes a project: 202, and its repository directory is gone", arguments: TestBackend.all)
    func delete(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (maintainer, maintainerToken) = try await server.makeUser("maya")
            let (groupOwner, groupOwnerToken) = try await server.makeUser("gina")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: maintainer.id, level: Level.maintainer, token: alice)
            let directory = server.environment.repositories.path(projectID: project.id)
            #expect(FileManager.default.fileExists(atPath: directory.path))

            #expect(try await client.api(.delete, "projects/\(project.id)", token: maintainerToken).status == .forbidden)
            let deleted = try await client.api(.delete, "projects/\(project.id)", token: alice)
            #expect(deleted.status == .accepted)
            #expect(deleted.string("message") == "202 Accepted")
            #expect(!FileManager.default.fileExists(atPath: directory.path))
            #expect(try await client.api(.get, "projects/\(project.id)", token: alice).status == .notFound)

            // An Owner of the group inherits the right to delete its projects.
            let group = try await client.createGroup("team", token: alice)
            try await client.addMember("groups", group.id, userID: groupOwner.id, level: Level.owner, token: alice)
            let groupProject = try await client.createProject(["name": "lib", "namespace_id": group.id], token: alice)
            #expect(try await client.api(.delete, "projects/\(groupProject.id)", token: groupOwnerToken).status == .accepted)
        }
    }
}
