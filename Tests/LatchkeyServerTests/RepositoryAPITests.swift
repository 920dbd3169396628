import Foundation
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Repository API")
struct RepositoryAPITests {
    @Test("files are read raw and as JSON at a ref, and missing ones answer 404 File Not Found", arguments: TestBackend.all)
    func files(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let repository = server.environment.repositories.path(projectID: project.id)
            let mainSHA = try GitFixtures.commit(["README.md": "hello main\n", "docs/guide.md": "# Guide\n"], to: repository)
            let featureSHA = try GitFixtures.commit(["README.md": "hello feature\n"], to: repository, branch: "feature/x")

            let raw = try await client.api(.get, "projects/\(project.id)/repository/files/README.md/raw?ref=main", token: alice)
            #expect(raw.status == .ok)
            #expect(raw.text == "hello main\n")
            #expect(raw.header("X-Gitlab-Commit-Id") == mainSHA)
            let defaultRef = try await client.api(.get, "projects/\(project.id)/repository/files/README.md/raw", token: alice)
            #expect(defaultRef.text == "hello main\n")
            let onBranch = try await client.api(.get, "projects/\(project.id)/repository/files/README.md/raw?ref=feature/x", token: alice)
            #expect(onBranch.text == "hello feature\n")
            let encodedBranch = try await client.api(.get, "projects/\(project.id)/repository/files/README.md/raw?ref=feature%2Fx", token: alice)
            #expect(encodedBranch.text == "hello feature\n")
            let bySHA = try await client.api(.get, "projects/\(project.id)/repository/files/README.md/raw?ref=\(featureSHA)", token: alice)
            #expect(bySHA.text == "hello feature\n")
            let nested = try await client.api(.get, "projects/alice%2Fapp/repository/files/docs%2Fguide.md/raw?ref=main", token: alice)
            #expect(nested.status == .ok)
            #expect(nested.text == "# Guide\n")

            let json = try await client.api(.get, "projects/\(project.id)/repository/files/docs%2Fguide.md?ref=main", token: alice)
            #expect(json.status == .ok)
            #expect(json.string("file_name") == "guide.md")
            #expect(json.string("file_path") == "docs/guide.md")
            #expect(json.string("encoding") == "base64")
            #expect(json.string("ref") == "main")
            #expect(json.string("commit_id") == mainSHA)
            #expect(json.object["size"] as? Int == 8)
            #expect(json.string("content").flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } == "# Guide\n")

            let missing = try await client.api(.get, "projects/\(project.id)/repository/files/nope.txt/raw?ref=main", token: alice)
            #expect(missing.status == .notFound)
            #expect(missing.string("message") == "404 File Not Found")
            let missingJSON = try await client.api(.get, "projects/\(project.id)/repository/files/nope.txt?ref=main", token: alice)
            #expect(missingJSON.status == .notFound)
            let unknownRef = try await client.api(.get, "projects/\(project.id)/repository/files/README.md/raw?ref=nope", token: alice)
            #expect(unknownRef.status == .notFound)
            let directory = try await client.api(.get, "projects/\(project.id)/repository/files/docs/raw?ref=main", token: alice)
            #expect(directory.status != .ok)
        }
    }

    @Test("file paths and refs that try to leave the repository are refused", arguments: TestBackend.all)
    func traversal(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            try GitFixtures.commit(["README.md": "hello\n"], to: server.environment.repositories.path(projectID: project.id))
            for path in [
                "..%2F..%2F..%2Fetc%2Fpasswd", "%2E%2E%2Fserver-secret", "docs%2F..%2F..%2FREADME.md", "%2Fetc%2Fpasswd", "..", "..%2Fserver-secret",
            ] {
                for suffix in ["/raw", ""] {
                    let response = try await client.api(.get, "projects/\(project.id)/repository/files/\(path)\(suffix)?ref=main", token: alice)
                    #expect(response.status == .badRequest || response.status == .notFound, "\(path)\(suffix): \(response.status)")
                    #expect(!response.text.contains("root:"))
                }
            }
            for ref in ["--output=%2Ftmp%2Fx", "main..HEAD", "HEAD~1", "main:README.md", "main%00"] {
                let response = try await client.api(.get, "projects/\(project.id)/repository/files/README.md/raw?ref=\(ref)", token: alice)
                #expect(response.status == .notFound || response.status == .badRequest, "ref \(ref): \(response.status)")
            }
        }
    }

    @Test("branches are listed and read one by one, slashes included", arguments: TestBackend.all)
    func branches(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let repository = server.environment.repositories.path(projectID: project.id)
            let empty = try await client.api(.get, "projects/\(project.id)/repository/branches", token: alice)
            #expect(empty.status == .ok)
            #expect(empty.array.isEmpty)
            let mainSHA = try GitFixtures.commit(["a.txt": "a"], to: repository, message: "First commit\n\nWith a body")
            let featureSHA = try GitFixtures.commit(["b.txt": "b"], to: repository, branch: "feature/x")

            let list = try await client.api(.get, "projects/\(project.id)/repository/branches", token: alice)
            #expect(list.status == .ok)
            let byName = Dictionary(uniqueKeysWithValues: list.array.map { ($0["name"] as? String ?? "", $0) })
            #expect(Set(byName.keys) == ["main", "feature/x"])
            #expect((byName["main"]?["commit"] as? [String: Any])?["id"] as? String == mainSHA)
            #expect((byName["main"]?["commit"] as? [String: Any])?["title"] as? String == "First commit")
            #expect(byName["main"]?["default"] as? Bool == true)
            #expect(byName["feature/x"]?["default"] as? Bool == false)
            #expect(byName["main"]?["can_push"] as? Bool == true)
            #expect(list.header("X-Total") == "2")
            let searched = try await client.api(.get, "projects/\(project.id)/repository/branches?search=feat", token: alice)
            #expect(searched.array.map { $0["name"] as? String } == ["feature/x"])

            let one = try await client.api(.get, "projects/\(project.id)/repository/branches/feature%2Fx", token: alice)
            #expect(one.status == .ok)
            #expect(one.string("name") == "feature/x")
            #expect((one.object["commit"] as? [String: Any])?["id"] as? String == featureSHA)
            let missing = try await client.api(.get, "projects/\(project.id)/repository/branches/nope", token: alice)
            #expect(missing.status == .notFound)
            #expect(missing.string("message") == "404 Branch Not Found")
        }
    }

    @Test("reading code needs Reporter on a private project and nothing on a public one", arguments: TestBackend.all)
    func access(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (guest, guestToken) = try await server.makeUser("guest")
            let (reporter, reporterToken) = try await server.makeUser("reporter")
            let (_, outsiderToken) = try await server.makeUser("outsider")
            let (_, readAPIToken) = try await server.makeUser("reader", scopes: [.readAPI])
            let secret = try await client.createProject(["name": "secret"], token: alice)
            let open = try await client.createProject(["name": "open", "visibility": "public"], token: alice)
            for project in [secret, open] {
                try GitFixtures.commit(["README.md": "hi\n"], to: server.environment.repositories.path(projectID: project.id))
            }
            try await client.addMember("projects", secret.id, userID: guest.id, level: Level.guest, token: alice)
            try await client.addMember("projects", secret.id, userID: reporter.id, level: Level.reporter, token: alice)

            let file = "repository/files/README.md/raw?ref=main"
            #expect(try await client.api(.get, "projects/\(secret.id)/\(file)", token: guestToken).status == .forbidden)
            #expect(try await client.api(.get, "projects/\(secret.id)/repository/branches", token: guestToken).status == .forbidden)
            #expect(try await client.api(.get, "projects/\(secret.id)/\(file)", token: reporterToken).status == .ok)
            #expect(try await client.api(.get, "projects/\(secret.id)/\(file)", token: outsiderToken).status == .notFound)
            #expect(try await client.api(.get, "projects/\(secret.id)/\(file)").status == .notFound)
            #expect(try await client.api(.get, "projects/\(open.id)/\(file)").status == .ok)
            #expect(try await client.api(.get, "projects/\(open.id)/repository/branches").status == .ok)
            // read_api grants read access to the whole API, repository files included.
            #expect(try await client.api(.get, "projects/\(open.id)/\(file)", token: readAPIToken).status == .ok)
            let branches = try await client.api(.get, "projects/\(open.id)/repository/branches", token: guestToken)
            #expect(branches.array.first?["can_push"] as? Bool == false)
        }
    }
}
