import Foundation
import LatchkeyTestSupport
import Testing

/// The seed's two curl recipes, verbatim (our host in place of gitlab.example.com), inside real jobs on a real server.
@Suite("Seed recipes, end to end", .serialized)
struct SeedRecipesTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    /// Creates a private project as root and pushes `files` with real git; returns its id.
    func project(_ name: String, files: [String: String]) async throws -> Int {
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": name, "visibility": "private"])
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.object["id"] as? Int)
        try push(name, files: files)
        return id
    }

    func push(_ name: String, files: [String: String]) throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        for (path, content) in files { try Data(content.utf8).write(to: work.appendingPathComponent(path)) }
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/\(name).git"
        try GitFixtures.git(["push", "-q", remote, "main"], in: work)
    }

    func pipelines(_ projectID: Int) async throws -> [[String: Any]] {
        try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/pipelines", headers: root).array
    }

    /// Waits for the project's newest pipeline to finish; answers its id and status.
    func finishedPipeline(_ projectID: Int) async throws -> (id: Int, status: String) {
        try await eventually("pipeline of project \(projectID) to finish") {
            guard let pipeline = try await pipelines(projectID).first, let id = pipeline["id"] as? Int, let status = pipeline["status"] as? String,
                ["success", "failed", "canceled"].contains(status)
            else { return nil }
            return (id, status)
        }
    }

    func trace(_ projectID: Int, pipelineID: Int) async throws -> String {
        let jobs = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/pipelines/\(pipelineID)/jobs", headers: root).array
        let jobID = try #require(jobs.first?["id"] as? Int)
        return try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)/trace", headers: root).text
    }

    @Test("a job downloads another project's artifacts with the seed's curl line and triggers its pipeline with the seed's curl POST")
    func recipes() async throws {
        let producerCI = """
            test:
              script:
                - mkdir -p dist && echo built > dist/output.txt
              artifacts:
                paths:
                  - dist/
            """
        let producer = try await project("seed-producer", files: [".gitlab-ci.yml": producerCI])
        let produced = try await finishedPipeline(producer)
        let producerLog = try await trace(producer, pipelineID: produced.id)
        #expect(produced.status == "success", "\(producerLog)")

        let consumerCreated = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": "seed-consumer", "visibility": "private"])
        let consumer = try #require(consumerCreated.object["id"] as? Int)
        let allow = try await HTTP.request("POST", "\(server.url)/api/v4/projects/\(producer)/job_token_scope/allowlist", headers: root, json: ["target_project_id": consumer])
        #expect(allow.status == 201, "\(allow.text)")
        // The recipes as the seed prints them; only the project id and the branch are ours. `unzip` may be missing: install nothing, use Python's.
        let consumerCI = """
            build_submodule:
              stage: test
              script:
                - curl --location --output artifacts.zip "$CI_API_V4_URL/projects/\(producer)/jobs/artifacts/main/download?job=test&job_token=$CI_JOB_TOKEN"
                - if command -v unzip >/dev/null; then unzip -l artifacts.zip; else python3 -m zipfile -l artifacts.zip; fi
                - curl --request POST --form "token=$CI_JOB_TOKEN" --form ref=main "$CI_API_V4_URL/projects/\(producer)/trigger/pipeline"
            """
        try push("seed-consumer", files: [".gitlab-ci.yml": consumerCI])
        let consumed = try await finishedPipeline(consumer)
        let log = try await trace(consumer, pipelineID: consumed.id)
        #expect(consumed.status == "success", "\(log)")
        #expect(log.contains("dist/output.txt"), "\(log)")
        #expect(log.replacingOccurrences(of: " ", with: "").contains("\"source\":\"pipeline\""), "\(log)")

        let triggeredRef = try await eventually("the triggered pipeline") { () -> String? in
            try await pipelines(producer).first { $0["source"] as? String == "pipeline" }?["ref"] as? String
        }
        #expect(triggeredRef == "main")
    }

    @Test("the same recipes without the producer's allowlist: the download gets 403 and the trigger answers 404 Not Found")
    func recipesRefused() async throws {
        let producer = try await project("seed-closed", files: [".gitlab-ci.yml": "test:\n  script: echo hi\n  artifacts:\n    paths: [.gitlab-ci.yml]\n"])
        _ = try await finishedPipeline(producer)
        let consumerCI = """
            job:
              script:
                - curl --silent --location --output artifacts.zip --write-out '%{http_code}\\n' "$CI_API_V4_URL/projects/\(producer)/jobs/artifacts/main/download?job=test&job_token=$CI_JOB_TOKEN"
                - cat artifacts.zip; echo
                - curl --silent --request POST --form "token=$CI_JOB_TOKEN" --form ref=main "$CI_API_V4_URL/projects/\(producer)/trigger/pipeline"; echo
            """
        let consumer = try await project("seed-stranger", files: [".gitlab-ci.yml": consumerCI])
        let consumed = try await finishedPipeline(consumer)
        let log = try await trace(consumer, pipelineID: consumed.id)
        #expect(log.contains("403"), "\(log)")
        #expect(log.contains("Authentication by CI/CD job token not allowed from root/seed-stranger to root/seed-closed."), "\(log)")
        #expect(log.contains("{\"message\":\"404 Not Found\"}"), "\(log)")
        #expect(try await pipelines(producer).allSatisfy { $0["source"] as? String != "pipeline" })
    }
}
