import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

@Suite("Releases and repository reads API")
struct ReleasesAPITests {
    @Test("creating a release makes its tag from `ref`; the release and tag read back as GitLab's entities", arguments: TestBackend.all)
    func create(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await fixture.project("app")
            let root = Credential.pat(server.rootToken)
            let created = try await client.send(.post, "projects/\(projectID)/releases", root, json: ["tag_name": "v1.0", "ref": "main", "description": "First", "name": "One"])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.string("tag_name") == "v1.0")
            #expect(created.string("name") == "One")
            #expect(created.string("description") == "First")
            #expect((created.object["author"] as? [String: Any])?["username"] as? String == "root")
            let sha = try #require((created.object["commit"] as? [String: Any])?["id"] as? String)
            #expect(sha.count == 40)
            #expect((created.object["assets"] as? [String: Any])?["count"] as? Int == 4)
            #expect((created.object["_links"] as? [String: Any])?["self"] as? String == "http://latchkey.test/root/app/-/releases/v1.0")

            let duplicate = try await client.send(.post, "projects/\(projectID)/releases", root, json: ["tag_name": "v1.0", "ref": "main"])
            #expect(duplicate.status == .conflict)
            #expect(duplicate.string("message") == "Release already exists")
            let noRef = try await client.send(.post, "projects/\(projectID)/releases", root, json: ["tag_name": "v2.0"])
            #expect(noRef.status == .unprocessableContent)
            #expect(noRef.string("message") == "Ref is not specified")
            #expect(try await client.send(.post, "projects/\(projectID)/releases", root, json: ["tag_name": "v2.0", "ref": "nope"]).status == .badRequest)
            #expect(try await client.send(.post, "projects/\(projectID)/releases", root, json: ["tag_name": "bad..tag", "ref": "main"]).status == .badRequest)
            #expect(try await client.send(.post, "projects/\(projectID)/releases", root, json: ["ref": "main"]).status == .badRequest)

            let annotated = try await client.send(.post, "projects/\(projectID)/releases", root, json: ["tag_name": "release/2", "ref": "main", "tag_message": "annotated"])
            #expect(annotated.status == .created)
            #expect(try await client.send(.get, "projects/\(projectID)/releases/release%2F2", root).string("tag_name") == "release/2")
            #expect(try await client.send(.get, "projects/\(projectID)/releases/v1.0", root).string("name") == "One")
            #expect(try await client.send(.get, "projects/\(projectID)/releases/v9", root).status == .notFound)
            let list = try await client.send(.get, "projects/\(projectID)/releases", root)
            #expect(list.array.compactMap { $0["tag_name"] as? String } == ["release/2", "v1.0"])

            let tags = try await client.send(.get, "projects/\(projectID)/repository/tags", root)
            #expect(Set(tags.array.compactMap { $0["name"] as? String }) == ["v1.0", "release/2"])
            let tag = try await client.send(.get, "projects/\(projectID)/repository/tags/release%2F2", root)
            #expect(tag.string("message") == "annotated")
            #expect((tag.object["commit"] as? [String: Any])?["id"] as? String == sha)
            #expect(tag.string("target") != sha, "an annotated tag's target is the tag object")
            #expect((tag.object["release"] as? [String: Any])?["tag_name"] as? String == "release/2")
            let light = try await client.send(.get, "projects/\(projectID)/repository/tags/v1.0", root)
            #expect(light.string("target") == sha)
            #expect(try await client.send(.get, "projects/\(projectID)/repository/tags/nope", root).status == .notFound)

            let commit = try await client.send(.get, "projects/\(projectID)/repository/commits/main", root)
            #expect(commit.status == .ok)
            #expect(commit.string("id") == sha)
            #expect(commit.string("short_id") == String(sha.prefix(8)))
            #expect((commit.object["stats"] as? [String: Any])?["additions"] as? Int == 3)
            #expect(commit.object["project_id"] as? Int == Int(projectID))
            #expect(try await client.send(.get, "projects/\(projectID)/repository/commits/\(sha)", root).string("id") == sha)
            #expect(try await client.send(.get, "projects/\(projectID)/repository/commits/v1.0", root).string("id") == sha)
            #expect(try await client.send(.get, "projects/\(projectID)/repository/commits/deadbeef", root).status == .notFound)
        }
    }

    @Test("job tokens create releases and read tags and commits in their project and, once allowlisted, in another", arguments: TestBackend.all)
    func jobTokensAndRoles(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let target = try await fixture.project("target")
            let source = try await fixture.project("source")
            let own = try await fixture.runningJob(target)
            let created = try await client.send(.post, "projects/\(target)/releases", .jobHeader(own.token), json: ["tag_name": "v1", "ref": "main"])
            #expect(created.status == .created, "\(created.text)")
            #expect(try await client.send(.get, "projects/\(target)/releases", .jobQuery(own.token)).array.count == 1)
            #expect(try await client.send(.get, "projects/\(target)/repository/tags", .bearer(own.token)).array.count == 1)
            #expect(try await client.send(.get, "projects/\(target)/repository/commits/main", .jobHeader(own.token)).status == .ok)
            try await fixture.finish(jobID: own.id, token: own.token)
            #expect(try await client.send(.get, "projects/\(target)/releases", .jobHeader(own.token)).status == .unauthorized)

            let other = try await fixture.runningJob(source)
            let refused = try await client.send(.post, "projects/\(target)/releases", .jobHeader(other.token), json: ["tag_name": "v2", "ref": "main"])
            #expect(refused.status == .forbidden)
            #expect(refused.string("message") == "403 Forbidden - Authentication by CI/CD job token not allowed from root/source to root/target.")
            #expect(try await client.send(.get, "projects/\(target)/repository/tags", .jobHeader(other.token)).status == .forbidden)
            try await fixture.allow(source, into: target)
            #expect(try await client.send(.post, "projects/\(target)/releases", .jobHeader(other.token), json: ["tag_name": "v2", "ref": "main"]).status == .created)
            #expect(try await client.send(.get, "projects/\(target)/repository/commits/v2", .jobHeader(other.token)).status == .ok)

            let (_, reporter) = try await fixture.user("reporter", level: Level.reporter, on: target)
            let (_, stranger) = try await fixture.user("stranger", level: nil, on: target)
            #expect(try await client.send(.post, "projects/\(target)/releases", .pat(reporter), json: ["tag_name": "v3", "ref": "main"]).status == .forbidden)
            #expect(try await client.send(.get, "projects/\(target)/releases", .pat(reporter)).status == .ok)
            #expect(try await client.send(.get, "projects/\(target)/releases", .pat(stranger)).status == .notFound)
        }
    }
}
