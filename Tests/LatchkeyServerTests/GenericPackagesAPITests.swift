import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

@Suite("Generic packages API")
struct GenericPackagesAPITests {
    static let bytes = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })

    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    @Test("a file uploads with PUT and downloads with GitLab's headers; the package appears in the listing", arguments: TestBackend.all)
    func uploadAndDownload(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await fixture.project("app")
            let root = Credential.pat(server.rootToken)
            let path = "projects/\(projectID)/packages/generic/my_package/1.0.0/file.bin"
            let put = try await client.send(.put, path, root, body: Self.bytes)
            #expect(put.status == .created)
            #expect(put.text == "{\"message\":\"201 Created\"}")
            let get = try await client.send(.get, path, root)
            #expect(get.status == .ok)
            #expect(get.body == Self.bytes)
            #expect(get.header("X-Checksum-SHA256") == Self.sha256(Self.bytes))
            #expect(get.header("Content-Disposition") == "attachment; filename=\"file.bin\"; filename*=UTF-8''file.bin")

            // A second upload of the same name wins, as in GitLab; `select=package_file` answers the file.
            let again = try await client.send(.put, path + "?select=package_file", root, body: Data("v2".utf8))
            #expect(again.status == .created)
            #expect(again.object["file_name"] as? String == "file.bin")
            #expect(again.object["file_sha256"] as? String == Self.sha256(Data("v2".utf8)))
            #expect(try await client.send(.get, path, root).text == "v2")
            #expect(try await client.send(.put, "projects/\(projectID)/packages/generic/my_package/1.0.0/dir/inner.txt", root, body: Data("in".utf8)).status == .created)
            #expect(try await client.send(.get, "projects/\(projectID)/packages/generic/my_package/1.0.0/dir/inner.txt", root).text == "in")

            let list = try await client.send(.get, "projects/\(projectID)/packages", root)
            #expect(list.status == .ok)
            #expect(list.array.count == 1)
            let package = try #require(list.array.first)
            #expect(package["name"] as? String == "my_package")
            #expect(package["version"] as? String == "1.0.0")
            #expect(package["package_type"] as? String == "generic")
            #expect((package["_links"] as? [String: Any])?["web_path"] as? String == "/root/app/-/packages/\(package.id)")

            #expect(try await client.send(.get, "projects/\(projectID)/packages/generic/my_package/1.0.0/other.bin", root).status == .notFound)
            #expect(try await client.send(.get, "projects/\(projectID)/packages/generic/my_package/2.0.0/file.bin", root).status == .notFound)
        }
    }

    @Test("names, versions and file names are checked as GitLab does, and path tricks are refused", arguments: TestBackend.all)
    func validation(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await fixture.project("app")
            let root = Credential.pat(server.rootToken)
            let base = "projects/\(projectID)/packages/generic"
            for bad in ["bad%20name/1.0/f.txt", "pkg/1..0/f.txt", "pkg/1.0/%2E%2E", "pkg/1.0/..%2F..%2Fescape", "%2E%2E/1.0/f.txt", "pkg/1.0/a%00b", "pkg/1.0/../f.txt"] {
                let response = try await client.send(.put, "\(base)/\(bad)", root, body: Data("x".utf8))
                #expect(response.status == .badRequest, "\(bad): \(response.status) \(response.text)")
            }
            let invalid = try await client.send(.put, "\(base)/bad%20name/1.0/f.txt", root, body: Data("x".utf8))
            #expect(invalid.object["error"] as? String == "package_name is invalid")
            for good in ["my.pkg-1_0+x/1.0.0-rc.1+build/f-1.2_3+x.tar.gz"] {
                #expect(try await client.send(.put, "\(base)/\(good)", root, body: Data("x".utf8)).status == .created)
            }
            var huge = HTTPFields()
            huge[.contentLength] = String(server.environment.settings.maxArtifactBytes + 1)
            let tooLarge = try await client.send(.put, "\(base)/pkg/1.0/big.bin", root, body: nil, headers: huge)
            #expect(tooLarge.status == .contentTooLarge)
            let stray = try FileManager.default.contentsOfDirectory(atPath: server.environment.settings.dataDirectory.appendingPathComponent("packages/tmp").path)
            #expect(stray.isEmpty, "temporary uploads are removed")
        }
    }

    @Test("job tokens upload and download in their project and, once allowlisted, in another; roles and dead tokens are refused", arguments: TestBackend.all)
    func jobTokensAndRoles(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let target = try await fixture.project("target")
            let source = try await fixture.project("source")
            let path = "projects/\(target)/packages/generic/tool/2.1.0/tool.tar.gz"
            let own = try await fixture.runningJob(target)
            #expect(try await client.send(.put, path, .jobHeader(own.token), body: Data("tool".utf8)).status == .created)
            #expect(try await client.send(.get, path, .jobQuery(own.token)).text == "tool")
            #expect(try await client.send(.get, path, .bearer(own.token)).text == "tool")
            try await fixture.finish(jobID: own.id, token: own.token)
            #expect(try await client.send(.get, path, .jobHeader(own.token)).status == .unauthorized)

            let other = try await fixture.runningJob(source)
            let refused = try await client.send(.get, path, .jobHeader(other.token))
            #expect(refused.status == .forbidden)
            #expect(refused.string("message") == "403 Forbidden - Authentication by CI/CD job token not allowed from root/source to root/target.")
            try await fixture.allow(source, into: target)
            #expect(try await client.send(.get, path, .jobHeader(other.token)).text == "tool")
            #expect(try await client.send(.put, "projects/\(target)/packages/generic/tool/2.2.0/tool.tar.gz", .jobHeader(other.token), body: Data("t2".utf8)).status == .created)

            let (_, reporter) = try await fixture.user("reporter", level: Level.reporter, on: target)
            let (_, stranger) = try await fixture.user("stranger", level: nil, on: target)
            #expect(try await client.send(.put, path, .pat(reporter), body: Data("x".utf8)).status == .forbidden)
            #expect(try await client.send(.get, path, .pat(reporter)).status == .ok)
            #expect(try await client.send(.get, path, .pat(stranger)).status == .notFound)
        }
    }
}
