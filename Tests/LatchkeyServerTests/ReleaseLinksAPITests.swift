import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Release links API")
struct ReleaseLinksAPITests {
    /// A project with the release `v1.0` made by root.
    static func release(_ fixture: JobTokenFixture, _ name: String = "app") async throws -> Int64 {
        let projectID = try await fixture.project(name)
        let created = try await fixture.client.send(
            .post, "projects/\(projectID)/releases", .pat(fixture.server.rootToken), json: ["tag_name": "v1.0", "ref": "main"])
        try #require(created.status == .created, "\(created.text)")
        return projectID
    }

    @Test("links are created, listed newest first, shown, updated and deleted with GitLab's entity, and appear in the release", arguments: TestBackend.all)
    func lifecycle(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await Self.release(fixture)
            let root = Credential.pat(server.rootToken)
            let links = "projects/\(projectID)/releases/v1.0/assets/links"
            let first = try await client.send(
                .post, links, root, json: ["name": "app.dmg", "url": "https://example.com/app.dmg", "direct_asset_path": "/bin/app.dmg", "link_type": "package"])
            #expect(first.status == .created, "\(first.text)")
            #expect(first.string("name") == "app.dmg")
            #expect(first.string("url") == "https://example.com/app.dmg")
            #expect(first.string("link_type") == "package")
            #expect(first.string("direct_asset_url") == "http://latchkey.test/root/app/-/releases/v1.0/downloads/bin/app.dmg")
            #expect(first.object["external"] as? Bool == true)
            let second = try await client.send(.post, links, root, json: ["name": "notes", "url": "http://latchkey.test/root/app/-/wikis/notes", "filepath": "/notes"])
            #expect(second.status == .created, "\(second.text)")
            #expect(second.string("link_type") == "other")
            #expect(second.object["external"] as? Bool == false)
            #expect(second.string("direct_asset_url")?.hasSuffix("/downloads/notes") == true)

            let listed = try await client.send(.get, links, root)
            #expect(listed.status == .ok)
            #expect(listed.array.map { $0.id } == [second.object.id, first.object.id], "newest first")
            #expect(listed.header("X-Total") == "2")
            let page = try await client.send(.get, links + "?per_page=1&page=2", root)
            #expect(page.array.map { $0.id } == [first.object.id])

            let shown = try await client.send(.get, "\(links)/\(first.object.id)", root)
            #expect(shown.string("name") == "app.dmg")
            let release = try await client.send(.get, "projects/\(projectID)/releases/v1.0", root)
            let assets = try #require(release.object["assets"] as? [String: Any])
            #expect(assets["count"] as? Int == 6, "four sources and two links")
            #expect((assets["links"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["notes", "app.dmg"])

            let renamed = try await client.send(.put, "\(links)/\(first.object.id)", root, json: ["name": "app-1.0.dmg"])
            #expect(renamed.status == .ok, "\(renamed.text)")
            #expect(renamed.string("name") == "app-1.0.dmg")
            #expect(renamed.string("url") == "https://example.com/app.dmg", "what is not sent stays")
            #expect(renamed.string("link_type") == "other", "GitLab's link_type defaults to other on update")
            let moved = try await client.send(.put, "\(links)/\(first.object.id)", root, json: ["url": "ftp://example.com/app.dmg", "direct_asset_path": "/bin/app-1.0.dmg"])
            #expect(moved.string("url") == "ftp://example.com/app.dmg")
            #expect(moved.string("direct_asset_url")?.hasSuffix("/downloads/bin/app-1.0.dmg") == true)

            let deleted = try await client.send(.delete, "\(links)/\(first.object.id)", root)
            #expect(deleted.status == .ok, "GitLab answers the deleted link")
            #expect(deleted.string("name") == "app-1.0.dmg")
            #expect(try await client.send(.get, "\(links)/\(first.object.id)", root).status == .notFound)
            #expect(try await client.send(.delete, "\(links)/\(first.object.id)", root).status == .notFound)
            #expect(try await client.send(.get, links, root).array.count == 1)
        }
    }

    @Test("bad links are refused with GitLab's messages: schemes, blanks, duplicates, paths, types and missing parameters", arguments: TestBackend.all)
    func validation(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await Self.release(fixture)
            let root = Credential.pat(server.rootToken)
            let links = "projects/\(projectID)/releases/v1.0/assets/links"
            func messages(_ json: [String: any Sendable], method: HTTPRequest.Method = .post, path: String? = nil) async throws -> (HTTPResponse.Status, [String]) {
                let response = try await client.send(method, path ?? links, root, json: json)
                return (response.status, response.object["message"] as? [String] ?? [response.string("error") ?? response.text])
            }
            let blocked = "Url is blocked: Only allowed schemes are http, https, ftp"
            for url in ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "example.com/app", "gopher://x"] {
                let (status, errors) = try await messages(["name": "x", "url": url])
                #expect(status == .badRequest, "\(url)")
                #expect(errors == [blocked], "\(url)")
            }
            #expect(try await messages(["name": "x", "url": "https://exa mple.com"]).1 == ["Url must be a valid URL"])
            #expect(try await messages(["name": "x", "url": "https://"]).1 == ["Url must be a valid URL"])
            #expect(try await messages(["name": "x", "url": "https://example.com/\u{0}"]).1 == ["Url must be a valid URL"])
            #expect(try await messages(["name": "", "url": ""]).1 == ["Url can't be blank", "Name can't be blank"])
            #expect(try await messages(["url": "https://example.com"]) == (.badRequest, ["name is missing"]))
            #expect(try await messages(["name": "x", "url": "https://example.com", "link_type": "virus"]).1 == ["link_type does not have a valid value"])
            #expect(try await messages(["name": String(repeating: "n", count: 256), "url": "https://example.com"]).1 == ["Name is too long (maximum is 255 characters)"])
            for path in ["bin/app", "//bin/app", "/bin//app", "/bin/app/", "/bin/../etc/passwd", "/a b/c", "/bin/app.", "/x"] {
                #expect(try await messages(["name": "p", "url": "https://example.com/p", "direct_asset_path": path]).1 == ["Filepath is in an invalid format"], "\(path)")
            }
            #expect(
                try await messages(["name": "p", "url": "https://example.com/p", "direct_asset_path": "/" + String(repeating: "a", count: 128)]).1
                    == ["Filepath is too long (maximum is 128 characters)"])

            let made = try await client.send(.post, links, root, json: ["name": "app", "url": " https://example.com/app ", "filepath": "/bin/app"])
            #expect(made.status == .created)
            #expect(made.string("url") == "https://example.com/app", "surrounding spaces are stripped, as GitLab")
            #expect(try await messages(["name": "app", "url": "https://example.com/app", "filepath": "/bin/app"]).1
                == ["Url has already been taken", "Name has already been taken", "Filepath has already been taken"])
            let other = try await client.send(.post, links, root, json: ["name": "other", "url": "https://example.com/other"])
            #expect(try await messages(["name": "app"], method: .put, path: "\(links)/\(other.object.id)").1 == ["Name has already been taken"])
            #expect(try await messages([:], method: .put, path: "\(links)/\(other.object.id)").0 == .badRequest)
            #expect(try await messages(["name": "y"], method: .put, path: "\(links)/abc").1 == ["link_id is invalid"])
            #expect(try await client.send(.put, "\(links)/999999", root, json: ["name": "y"]).status == .notFound)
            let missingRelease = try await client.send(.get, "projects/\(projectID)/releases/v9/assets/links", root)
            #expect(missingRelease.status == .notFound)
            #expect(missingRelease.string("message") == "404 Not found")
            // A link id of another release is not found through this one.
            _ = try await client.send(.post, "projects/\(projectID)/releases", root, json: ["tag_name": "v2.0", "ref": "main"])
            #expect(try await client.send(.get, "projects/\(projectID)/releases/v2.0/assets/links/\(other.object.id)", root).status == .notFound)
        }
    }

    @Test("Reporters read and Developers write; strangers see nothing; anonymous callers read public releases only", arguments: TestBackend.all)
    func roles(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await Self.release(fixture)
            let links = "projects/\(projectID)/releases/v1.0/assets/links"
            let link = try await client.send(.post, links, .pat(server.rootToken), json: ["name": "a", "url": "https://example.com/a"])
            let (_, reporter) = try await fixture.user("reporter", level: Level.reporter, on: projectID)
            let (_, developer) = try await fixture.user("developer", level: Level.developer, on: projectID)
            let (_, stranger) = try await fixture.user("stranger", level: nil, on: projectID)
            #expect(try await client.send(.get, links, .pat(reporter)).array.count == 1)
            #expect(try await client.send(.post, links, .pat(reporter), json: ["name": "b", "url": "https://example.com/b"]).status == .forbidden)
            #expect(try await client.send(.put, "\(links)/\(link.object.id)", .pat(reporter), json: ["name": "b"]).status == .forbidden)
            #expect(try await client.send(.delete, "\(links)/\(link.object.id)", .pat(reporter)).status == .forbidden)
            #expect(try await client.send(.post, links, .pat(developer), json: ["name": "b", "url": "https://example.com/b"]).status == .created)
            #expect(try await client.send(.put, "\(links)/\(link.object.id)", .pat(developer), json: ["name": "c"]).status == .ok)
            let hidden = try await client.send(.get, links, .pat(stranger))
            #expect(hidden.status == .notFound)
            #expect(hidden.string("message") == "404 Project Not Found")
            #expect(try await client.send(.post, links, .pat(stranger), json: ["name": "d", "url": "https://example.com/d"]).status == .notFound)
            #expect(try await client.send(.get, links, .none).status == .notFound)

            let publicProject = try await Self.release(fixture, "open")
            _ = try await client.api(.put, "projects/\(publicProject)", token: server.rootToken, json: ["visibility": "public"])
            let openLinks = "projects/\(publicProject)/releases/v1.0/assets/links"
            #expect(try await client.send(.get, openLinks, .none).status == .ok)
            #expect(try await client.send(.get, openLinks, .pat(stranger)).status == .ok)
            #expect(try await client.send(.post, openLinks, .pat(stranger), json: ["name": "d", "url": "https://example.com/d"]).status == .forbidden)
            #expect(try await client.send(.post, openLinks, .none, json: ["name": "d", "url": "https://example.com/d"]).status == .unauthorized)
        }
    }

    @Test("job tokens manage links in their own project, and in another only once allowlisted with read_releases or admin_releases", arguments: TestBackend.all)
    func jobTokens(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let target = try await Self.release(fixture, "target")
            let source = try await fixture.project("source")
            let links = "projects/\(target)/releases/v1.0/assets/links"
            let own = try await fixture.runningJob(target)
            let made = try await client.send(.post, links, .jobHeader(own.token), json: ["name": "a", "url": "https://example.com/a"])
            #expect(made.status == .created, "\(made.text)")
            #expect(try await client.send(.put, "\(links)/\(made.object.id)", .jobQuery(own.token), json: ["name": "b"]).status == .ok)
            #expect(try await client.send(.get, links, .bearer(own.token)).array.count == 1)
            try await fixture.finish(jobID: own.id, token: own.token)
            #expect(try await client.send(.get, links, .jobHeader(own.token)).status == .unauthorized, "a finished job's token is dead")

            let other = try await fixture.runningJob(source)
            let refused = try await client.send(.get, links, .jobHeader(other.token))
            #expect(refused.status == .forbidden)
            #expect(refused.string("message") == "403 Forbidden - Authentication by CI/CD job token not allowed from root/source to root/target.")
            // An entry with fine-grained permissions: read_releases lets it read, not write.
            try await server.store.jobTokenScope.addProject(
                source, to: target, direction: .inbound, grant: AllowlistGrant(defaultPermissions: false, policies: [.readReleases]), addedBy: nil)
            #expect(try await client.send(.get, links, .jobHeader(other.token)).array.count == 1)
            let noAdmin = try await client.send(.post, links, .jobHeader(other.token), json: ["name": "c", "url": "https://example.com/c"])
            #expect(noAdmin.status == .forbidden)
            #expect(noAdmin.string("message") == "403 Forbidden - The following token permission is required: admin_releases.")
            #expect(try await client.send(.delete, "\(links)/\(made.object.id)", .jobHeader(other.token)).status == .forbidden)
            try await server.store.jobTokenScope.removeProject(source, from: target, direction: .inbound)
            try await server.store.jobTokenScope.addProject(
                source, to: target, direction: .inbound, grant: AllowlistGrant(defaultPermissions: false, policies: [.adminReleases]), addedBy: nil)
            #expect(try await client.send(.delete, "\(links)/\(made.object.id)", .jobHeader(other.token)).status == .ok)
        }
    }
}
