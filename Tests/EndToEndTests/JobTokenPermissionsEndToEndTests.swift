import Foundation
import LatchkeyTestSupport
import Testing

/// `permissions:` from real jobs on the real runner: the job narrows its own `CI_JOB_TOKEN`, and git and curl meet the narrowing.
@Suite("Job token permissions, end to end", .serialized)
struct JobTokenPermissionsEndToEndTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    @Test("a job with permissions: {repository: read} clones and reads with CI_JOB_TOKEN but cannot publish; a job granted packages: write can")
    func repositoryReadOnlyJob() async throws {
        let package = "$CI_API_V4_URL/projects/$CI_PROJECT_ID/packages/generic/tool/1.0.0"
        let ci = """
            reader:
              permissions: {repository: read}
              script:
                - git clone -q "$CI_REPOSITORY_URL" copy && echo "clone=ok"
                - 'curl -sf -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/repository/files/README.md/raw?ref=main"'
                - 'curl -s -w " status=%{http_code}\\n" -H "JOB-TOKEN: $CI_JOB_TOKEN" --upload-file copy/README.md "\(package)/reader.md"'
            publisher:
              permissions:
                repository: read
                packages: write
              script:
                - 'curl -sf -H "JOB-TOKEN: $CI_JOB_TOKEN" --upload-file README.md "\(package)/publisher.md"'
            """
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": "permissions-e2e"])
        #expect(created.status == 201, "\(created.text)")
        let projectID = try #require(created.object["id"] as? Int)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        try Data(ci.utf8).write(to: work.appendingPathComponent(".gitlab-ci.yml"))
        try Data("readme of permissions-e2e\n".utf8).write(to: work.appendingPathComponent("README.md"))
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/permissions-e2e.git"
        try GitFixtures.git(["push", "-q", remote, "main"], in: work)

        let status: String = try await eventually("pipeline of project \(projectID) to finish") { () async throws -> String? in
            let pipelines = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/pipelines", headers: root).array
            guard let status = pipelines.first?["status"] as? String, ["success", "failed", "canceled"].contains(status) else { return nil }
            return status
        }
        let jobs = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs", headers: root).array
        func log(_ name: String) async throws -> String {
            let id = try #require(jobs.first { $0["name"] as? String == name }?["id"] as? Int)
            return try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(id)/trace", headers: root).text
        }
        let reader = try await log("reader")
        let publisher = try await log("publisher")
        #expect(status == "success", "reader:\n\(reader)\npublisher:\n\(publisher)")
        #expect(reader.contains("this job's token may use: repository: read."), "\(reader)")
        #expect(reader.contains("clone=ok"), "\(reader)")
        #expect(reader.contains("readme of permissions-e2e"), "\(reader)")
        #expect(
            reader.contains("The job token's permissions do not include packages: write (limited by the job's permissions: in .gitlab-ci.yml).\"} status=403"),
            "\(reader)")
        #expect(reader.contains("job token refused: create_package"), "the refusal is in the reader's trace: \(reader)")
        #expect(publisher.contains("this job's token may use: repository: read, packages: write."), "\(publisher)")

        let files = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/packages", headers: root).array
        #expect(files.count == 1, "only the publisher's upload landed")
        let published = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/packages/generic/tool/1.0.0/publisher.md", headers: root)
        #expect(published.status == 200 && published.text == "readme of permissions-e2e\n")
        let refused = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/packages/generic/tool/1.0.0/reader.md", headers: root)
        #expect(refused.status == 404)
    }
}
