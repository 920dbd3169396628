import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("HEAD requests and file headers")
struct HeadRequestTests {
    @Test("HEAD answers every GET route with the GET's status and headers and no body, errors included", arguments: TestBackend.all)
    func headLikeGet(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let repository = server.environment.repositories.path(projectID: project.id)
            try GitFixtures.commit(["README.md": "hello\n"], to: repository)

            for path in ["projects/\(project.id)/repository/files/README.md/raw?ref=main", "projects/\(project.id)/repository/files/README.md?ref=main",
                "projects/\(project.id)/repository/branches", "projects/\(project.id)", "user",
            ] {
                let get = try await client.api(.get, path, token: alice)
                let head = try await client.api(.head, path, token: alice)
                #expect(get.status == .ok, "\(path)")
                #expect(head.status == .ok, "\(path)")
                #expect(head.body.isEmpty, "\(path)")
                #expect(head.header("Content-Length") == get.header("Content-Length"), "\(path)")
                #expect(head.header("Content-Type") == get.header("Content-Type"), "\(path)")
                #expect(head.header("X-Total") == get.header("X-Total"), "\(path)")
            }
            let missing = try await client.api(.head, "projects/\(project.id)/repository/files/nope.txt?ref=main", token: alice)
            #expect(missing.status == .notFound)
            #expect(missing.body.isEmpty)
            let anonymous = try await client.api(.head, "projects/\(project.id)/repository/files/README.md?ref=main")
            #expect(anonymous.status == .notFound, "a private project is not found for an anonymous HEAD, as for GET")
            #expect(anonymous.body.isEmpty)
            let noRoute = try await client.api(.head, "no/such/route", token: alice)
            #expect(noRoute.status == .notFound)
            #expect(noRoute.body.isEmpty)
            let write = try await client.api(.head, "projects/\(project.id)/variables", token: alice)
            #expect(write.status == .ok, "a GET-only listing answers HEAD too")
        }
    }

    @Test("files and raw files carry GitLab's X-Gitlab-* headers and blob_data fields", arguments: TestBackend.all)
    func fileHeaders(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let repository = server.environment.repositories.path(projectID: project.id)
            let first = try GitFixtures.commit(["docs/guide.md": "# Guide\n", "other.txt": "1\n"], to: repository)
            let second = try GitFixtures.commit(["other.txt": "2\n"], to: repository)
            let blob = try GitFixtures.git(["--git-dir", repository.path, "rev-parse", "\(second):docs/guide.md"]).trimmingCharacters(in: .whitespacesAndNewlines)
            let digest = "bc553ffe57e544498b12a9865dbf3abc2004c474e349c52c378eaa402287424b"  // sha256 of "# Guide\n"

            for suffix in ["", "/raw"] {
                for method in [HTTPRequest.Method.get, .head] {
                    let answer = try await client.api(method, "projects/\(project.id)/repository/files/docs%2Fguide.md\(suffix)?ref=main", token: alice)
                    #expect(answer.status == .ok)
                    #expect(answer.header("X-Gitlab-File-Name") == "guide.md")
                    #expect(answer.header("X-Gitlab-File-Path") == "docs/guide.md")
                    #expect(answer.header("X-Gitlab-Size") == "8")
                    #expect(answer.header("X-Gitlab-Encoding") == "base64")
                    #expect(answer.header("X-Gitlab-Ref") == "main")
                    #expect(answer.header("X-Gitlab-Blob-Id") == blob)
                    #expect(answer.header("X-Gitlab-Commit-Id") == second)
                    #expect(answer.header("X-Gitlab-Last-Commit-Id") == first, "the last commit that touched the file, not the ref's head")
                    #expect(answer.header("X-Gitlab-Content-Sha256") == digest)
                    #expect(answer.header("X-Gitlab-Execute-Filemode") == "false")
                }
            }
            let json = try await client.api(.get, "projects/\(project.id)/repository/files/docs%2Fguide.md?ref=main", token: alice)
            #expect(json.string("blob_id") == blob)
            #expect(json.string("last_commit_id") == first)
            #expect(json.string("commit_id") == second)
            #expect(json.string("content_sha256") == digest)
            #expect(json.object["execute_filemode"] as? Bool == false)
            #expect(json.string("content").flatMap { Data(base64Encoded: $0) } == Data("# Guide\n".utf8))
        }
    }
}
