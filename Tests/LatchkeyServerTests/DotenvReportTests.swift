import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import NIOCore
import Testing

@Suite("artifacts:reports:dotenv: a job's variables flow to the later jobs that take its artifacts")
struct DotenvReportFlowTests {
    static let ciFile = """
        stages: [build, deploy]
        build:
          stage: build
          script: [make]
          artifacts:
            reports:
              dotenv: build.env
        deploy:
          stage: deploy
          variables: {BUILD_VERSION: from-yaml}
          script: [deploy]
        needs_with_artifacts:
          stage: deploy
          needs: [build]
          script: [x]
        needs_without_artifacts:
          stage: deploy
          needs: [{job: build, artifacts: false}]
          script: [x]
        no_dependencies:
          stage: deploy
          dependencies: []
          script: [x]
        """

    /// Uploads `bytes` as the job's report of `type` in `format`, as gitlab-runner does.
    static func upload(
        _ client: some TestClientProtocol, jobID: Int64, token: String, bytes: [UInt8], type: String = "dotenv", format: String = "gzip"
    ) async throws -> (status: HTTPResponse.Status, text: String) {
        let boundary = "report-\(UUID().uuidString)"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dotenv.gz\"\r\nContent-Type: application/gzip\r\n\r\n".utf8)
        body += bytes
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        headers[HTTPField.Name("JOB-TOKEN")!] = token
        return try await client.execute(
            uri: "/api/v4/jobs/\(jobID)/artifacts?artifact_type=\(type)&artifact_format=\(format)", method: .post, headers: headers, body: ByteBuffer(bytes: body)
        ) { ($0.status, String(buffer: $0.body)) }
    }

    /// The last value of `key` in a payload's variables (the one a job's environment ends up with), nil when absent.
    static func value(_ key: String, in payload: [String: Any]) -> String? {
        ((payload["variables"] as? [[String: Any]]) ?? []).last { $0["key"] as? String == key }?["value"] as? String
    }

    /// Claims every job a runner can get now, by name.
    static func claimAll(_ client: some TestClientProtocol, runnerToken: String) async throws -> [String: [String: Any]] {
        var jobs: [String: [String: Any]] = [:]
        while true {
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            guard claimed.status == .created else { return jobs }
            let info = try #require(claimed.object["job_info"] as? [String: Any])
            jobs[try #require(info["name"] as? String)] = claimed.object
        }
    }

    @Test("later stages and needs: with artifacts get the variables; artifacts: false and dependencies: [] do not; project variables win", arguments: TestBackend.all)
    func flow(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let created = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"])
            let projectID = created.id
            let variable = try await client.api(.post, "projects/\(projectID)/variables", token: server.rootToken, json: ["key": "URL", "value": "from-project"])
            try #require(variable.status == .created, "\(variable.text)")
            let build = try await client.runningJob(server, projectID: projectID, userToken: server.rootToken, ciFile: Self.ciFile)
            let report = Gzip.member(name: "build.env", data: Array("BUILD_VERSION=1.2.3\nURL=https://example.com\nIMAGE_TAG = v1 \n".utf8))
            let uploaded = try await Self.upload(client, jobID: build.jobID, token: build.token, bytes: report)
            #expect(uploaded.status == .created, "\(uploaded.text)")
            #expect(try await server.store.jobs.dotenvVariables(jobID: build.jobID).map(\.key) == ["BUILD_VERSION", "URL", "IMAGE_TAG"])
            #expect(try await client.api(.put, "jobs/\(build.jobID)", json: ["token": build.token, "state": "success"]).status == .ok)

            let jobs = try await Self.claimAll(client, runnerToken: build.runnerToken)
            #expect(Set(jobs.keys) == ["deploy", "needs_with_artifacts", "needs_without_artifacts", "no_dependencies"])
            let deploy = try #require(jobs["deploy"])
            #expect(Self.value("BUILD_VERSION", in: deploy) == "1.2.3")
            #expect(Self.value("IMAGE_TAG", in: deploy) == "v1")
            #expect(Self.value("URL", in: deploy) == "from-project")
            let dotenv = try #require(((deploy["variables"] as? [[String: Any]]) ?? []).last { $0["key"] as? String == "IMAGE_TAG" })
            #expect(dotenv["public"] as? Bool == false)
            #expect(dotenv["raw"] as? Bool != true)
            let withArtifacts = try #require(jobs["needs_with_artifacts"])
            let withoutArtifacts = try #require(jobs["needs_without_artifacts"])
            let noDependencies = try #require(jobs["no_dependencies"])
            #expect(Self.value("BUILD_VERSION", in: withArtifacts) == "1.2.3")
            #expect(Self.value("BUILD_VERSION", in: withoutArtifacts) == nil)
            #expect(Self.value("BUILD_VERSION", in: noDependencies) == nil)
        }
    }

    @Test("a second upload of the report replaces the first one's variables", arguments: [TestBackend.sqlite])
    func replaced(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let projectID = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"]).id
            let build = try await client.runningJob(server, projectID: projectID, userToken: server.rootToken, ciFile: Self.ciFile)
            for text in ["A=1\nB=2\n", "B=3\n"] {
                let uploaded = try await Self.upload(client, jobID: build.jobID, token: build.token, bytes: Gzip.member(name: ".env", data: Array(text.utf8)))
                #expect(uploaded.status == .created, "\(uploaded.text)")
            }
            #expect(try await server.store.jobs.dotenvVariables(jobID: build.jobID) == [CIVariable(key: "B", value: "3")])
        }
    }

    static let hostile: [(String, [UInt8], String)] = [
        ("a predefined key", Gzip.member(name: ".env", data: Array("SAFE=1\nCI_API_V4_URL=https://attacker.example\n".utf8)),
         "Validation failed: Key CI_API_V4_URL is a predefined variable and cannot be set by a dotenv report"),
        ("the job token", Gzip.member(name: ".env", data: Array("CI_JOB_TOKEN=x\n".utf8)), "CI_JOB_TOKEN is a predefined variable"),
        ("not gzip", Array("A=1\n".utf8), "not in gzip format"),
        ("binary", Gzip.member(name: ".env", data: [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x0A, 0xFF, 0xFE]), "Invalid Format"),
        ("a blank line", Gzip.member(name: ".env", data: Array("A=1\n\nB=2\n".utf8)), "Invalid Format"),
        ("a bad key", Gzip.member(name: ".env", data: Array("MY-KEY=1\n".utf8)), "Validation failed: Key can contain only letters, digits and '_'."),
        ("a decompression bomb", Gzip.member(name: ".env", data: [UInt8](repeating: 65, count: 50_000_000)), "Dotenv Artifact Too Big. Maximum Allowable Size: 5120"),
        ("a 6000-byte upload", [UInt8](repeating: 0x1F, count: 6000), "Dotenv Artifact Too Big. Maximum Allowable Size: 5120"),
        ("151 variables", Gzip.member(name: ".env", data: Array((1...151).map { "K\($0)=v" }.joined(separator: "\n").utf8)),
         "Dotenv files cannot have more than 150 variables"),
    ]

    @Test("a hostile report answers 400 with GitLab's message and leaves no artifact and no variables", arguments: [TestBackend.sqlite])
    func refused(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let projectID = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"]).id
            let build = try await client.runningJob(server, projectID: projectID, userToken: server.rootToken, ciFile: Self.ciFile)
            for (label, bytes, message) in Self.hostile {
                let answer = try await Self.upload(client, jobID: build.jobID, token: build.token, bytes: bytes)
                #expect(answer.status == .badRequest, "\(label): \(answer.status) \(answer.text)")
                #expect(answer.text.contains(message), "\(label): \(answer.text)")
            }
            #expect(try await server.store.artifacts.artifacts(jobID: build.jobID).isEmpty)
            #expect(try await server.store.jobs.dotenvVariables(jobID: build.jobID).isEmpty)
        }
    }

    @Test("report types and formats are GitLab's: a dotenv report must be gzip, an unknown type is refused, a junit report is kept", arguments: [TestBackend.sqlite])
    func types(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let projectID = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"]).id
            let build = try await client.runningJob(server, projectID: projectID, userToken: server.rootToken, ciFile: Self.ciFile)
            let report = Gzip.member(name: ".env", data: Array("A=1\n".utf8))
            let zipped = try await Self.upload(client, jobID: build.jobID, token: build.token, bytes: report, format: "zip")
            #expect(zipped.status == .badRequest && zipped.text.contains("Invalid file format with specified file type"), "\(zipped.text)")
            let unknown = try await Self.upload(client, jobID: build.jobID, token: build.token, bytes: report, type: "dotenv2")
            #expect(unknown.status == .badRequest && unknown.text.contains("artifact_type does not have a valid value"), "\(unknown.text)")
            let junit = try await Self.upload(client, jobID: build.jobID, token: build.token, bytes: Gzip.member(name: "rspec.xml", data: Array("<testsuites/>".utf8)), type: "junit")
            #expect(junit.status == .created, "\(junit.text)")
            #expect(try await server.store.artifacts.artifacts(jobID: build.jobID).map(\.fileType) == ["junit"])
        }
    }
}
