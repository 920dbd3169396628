import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

/// Project-level secure files: Maintainers upload and delete, Developers and job tokens download, contents sealed at rest.
@Suite("Secure files")
struct SecureFilesAPITests {
    static func multipart(name: String?, file: Data?, filename: String = "upload.bin") -> (body: Data, headers: HTTPFields) {
        let boundary = "latchkey-\(UUID().uuidString)"
        var body = Data()
        if let name { body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\(name)\r\n".utf8) }
        if let file {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            body += file + Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        return (body, [.contentType: "multipart/form-data; boundary=\(boundary)"])
    }

    func upload(_ client: any TestClientProtocol, _ projectID: Int64, _ credential: Credential, name: String?, file: Data?) async throws -> SentResponse {
        let form = Self.multipart(name: name, file: file)
        return try await client.send(.post, "projects/\(projectID)/secure_files", credential, body: form.body, headers: form.headers)
    }

    @Test("upload, list, show, download and delete with GitLab's shapes; binary content survives, sealed in the database", arguments: TestBackend.all)
    func lifecycle(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let content = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }) + Data("-----BEGIN PRIVATE KEY-----unique-marker".utf8)
            let created = try await upload(client, project.id, .pat(alice), name: "release.keystore", file: content)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.string("name") == "release.keystore")
            #expect(created.string("checksum_algorithm") == "sha256")
            #expect(created.string("file_extension") == "keystore")
            let expected = SHA256Hex.of(content)
            #expect(created.string("checksum") == expected)
            let id = try #require(created.object["id"] as? Int)

            let list = try await client.send(.get, "projects/\(project.id)/secure_files", .pat(alice))
            #expect(list.array.compactMap { $0["name"] as? String } == ["release.keystore"])
            #expect(try await client.send(.get, "projects/\(project.id)/secure_files/\(id)", .pat(alice)).string("checksum") == expected)
            let download = try await client.send(.get, "projects/\(project.id)/secure_files/\(id)/download", .pat(alice))
            #expect(download.status == .ok)
            #expect(download.body == content)
            #expect(download.header("Content-Type") == "application/octet-stream")
            #expect(download.header("Content-Disposition")?.hasPrefix("attachment; filename=\"release.keystore\"") == true)

            // The content is sealed in the database: neither it nor its base64 is there in the clear.
            let raw = try await server.store.database.read { db in
                try await db.select().column("content").from("secure_files").all().map { try $0.decode(column: "content", as: String.self) }
            }
            #expect(raw.count == 1 && raw.allSatisfy { SecretSealer.isSealed($0) && !$0.contains(content.base64EncodedString().prefix(40)) })

            let duplicate = try await upload(client, project.id, .pat(alice), name: "release.keystore", file: Data("x".utf8))
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.text.contains("has already been taken"))
            #expect(try await upload(client, project.id, .pat(alice), name: "x", file: nil).string("error") == "file is missing")
            #expect(try await upload(client, project.id, .pat(alice), name: nil, file: Data("x".utf8)).string("error") == "name is missing")
            for bad in ["a/b", "..", "a\nb", "a\\b"] {
                #expect(try await upload(client, project.id, .pat(alice), name: bad, file: Data("x".utf8)).status == .badRequest, "\(bad)")
            }
            let largest = try await upload(client, project.id, .pat(alice), name: "largest", file: Data(repeating: 7, count: SecureFile.maximumSize - 1))
            #expect(largest.status == .created, "\(largest.status)")
            let largestID = try #require(largest.object["id"] as? Int)
            #expect(try await client.send(.get, "projects/\(project.id)/secure_files/\(largestID)/download", .pat(alice)).body.count == SecureFile.maximumSize - 1)
            let big = try await upload(client, project.id, .pat(alice), name: "big", file: Data(count: SecureFile.maximumSize))
            #expect(big.status == .contentTooLarge)
            let huge = try await upload(client, project.id, .pat(alice), name: "huge", file: Data(count: SecureFile.maximumSize * 2))
            #expect(huge.status == .contentTooLarge)

            #expect(try await client.send(.delete, "projects/\(project.id)/secure_files/\(id)", .pat(alice)).status == .noContent)
            #expect(try await client.send(.get, "projects/\(project.id)/secure_files/\(id)/download", .pat(alice)).status == .notFound)
            #expect(try await client.send(.get, "projects/\(project.id)/secure_files/abc", .pat(alice)).status == .notFound)
        }
    }

    @Test("a name that would break a header comes back safely quoted")
    func hostileName() {
        let header = SecureFilesController.attachment("a\"; filename=evil.sh é")
        #expect(!header.contains("\"; filename=evil"))
        #expect(header.hasSuffix("filename*=UTF-8''a%22%3B%20filename%3Devil.sh%20%C3%A9"))
    }

    @Test("Developers and job tokens download; only Maintainers upload and delete; Reporters, outsiders and anonymous callers are refused")
    func refusals() async throws {
        try await withTestServer { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (developer, developerToken) = try await server.makeUser("dev")
            let (reporter, reporterToken) = try await server.makeUser("rep")
            let (_, outsider) = try await server.makeUser("outsider")
            let project = try await client.createProject(["name": "app"], token: alice)
            let other = try await client.createProject(["name": "other"], token: alice)
            try await client.addMember("projects", project.id, userID: developer.id, level: Level.developer, token: alice)
            try await client.addMember("projects", project.id, userID: reporter.id, level: Level.reporter, token: alice)
            let id = try #require(try await upload(client, project.id, .pat(alice), name: "key.p12", file: Data("secret".utf8)).object["id"] as? Int)
            let otherID = try #require(try await upload(client, other.id, .pat(alice), name: "key.p12", file: Data("other".utf8)).object["id"] as? Int)
            let download = "projects/\(project.id)/secure_files/\(id)/download"

            #expect(try await client.send(.get, download, .pat(developerToken)).body == Data("secret".utf8))
            #expect(try await upload(client, project.id, .pat(developerToken), name: "dev", file: Data("x".utf8)).status == .forbidden)
            #expect(try await client.send(.delete, "projects/\(project.id)/secure_files/\(id)", .pat(developerToken)).status == .forbidden)
            #expect(try await client.send(.get, download, .pat(reporterToken)).status == .forbidden)
            #expect(try await client.send(.get, "projects/\(project.id)/secure_files", .pat(reporterToken)).status == .forbidden)
            #expect(try await client.send(.get, download, .pat(outsider)).status == .notFound)
            #expect(try await client.send(.get, download, .none).status == .unauthorized)
            // Another project's file id is not found through this project.
            #expect(try await client.send(.get, "projects/\(project.id)/secure_files/\(otherID)/download", .pat(alice)).status == .notFound)

            let job = try await client.runningJob(server, projectID: project.id, userToken: developerToken)
            let listed = try await client.send(.get, "projects/\(project.id)/secure_files", .jobHeader(job.token))
            #expect(listed.array.count == 1, "\(listed.text)")
            #expect(try await client.send(.get, download, .jobHeader(job.token)).body == Data("secret".utf8))
            // The job acts as its Developer: no uploads; and another project's files stay out of reach.
            #expect(try await upload(client, project.id, .jobHeader(job.token), name: "j", file: Data("x".utf8)).status == .forbidden)
            let cross = try await client.send(.get, "projects/\(other.id)/secure_files/\(otherID)/download", .jobHeader(job.token))
            #expect(cross.status == .forbidden || cross.status == .notFound, "\(cross.status)")
        }
    }
}

/// SHA-256 as lower-case hex, for checksums.
enum SHA256Hex {
    static func of(_ data: Data) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(data)
        try? input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }
}
