import Foundation
import LatchkeyTestSupport
import Testing

/// `trigger:` end to end: a child pipeline read from a job's artifact and a multi-project pipeline, both `strategy: depend`,
/// run by the real runner after a real push; the parent's last stage runs once both have passed.
@Suite("Downstream pipelines, end to end", .serialized)
struct TriggerEndToEndTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    private func push(_ files: [String: String], project name: String) throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-trigger-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        for (path, text) in files {
            let url = work.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        try GitFixtures.git(["push", "-q", server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/\(name).git", "main"], in: work)
    }

    @Test("a generated child pipeline and a multi-project deploy run for real and gate the parent's last stage")
    func flow() async throws {
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let app = "trigger-app-" + suffix, deploy = "trigger-deploy-" + suffix
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": app])
        let appID = try #require(created.object["id"] as? Int)
        let downstream = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": deploy])
        let deployID = try #require(downstream.object["id"] as? Int)
        try push([".gitlab-ci.yml": "ship:\n  script: [echo \"shipping from $CI_PIPELINE_SOURCE version $VERSION\"]\n"], project: deploy)
        let ci = """
            stages: [generate, trigger, report]
            generate:
              stage: generate
              script:
                - |
                  cat > generated.yml <<'EOF'
                  generated-job:
                    script: ['echo "generated for $CI_PIPELINE_SOURCE with $MODE"']
                  EOF
              artifacts: {paths: [generated.yml]}
            child:
              stage: trigger
              variables: {MODE: artifact}
              trigger:
                include: [{artifact: generated.yml, job: generate}]
                strategy: depend
            deploy:
              stage: trigger
              variables: {VERSION: "1.$CI_PIPELINE_IID"}
              trigger: {project: root/\(deploy), strategy: depend}
            report:
              stage: report
              script: [echo "all done"]
            """
        try push([".gitlab-ci.yml": ci], project: app)

        let server = self.server, root = self.root
        let (parentID, parentIID, parentStatus) = try await eventually("the parent pipeline to finish", timeout: .seconds(180)) { () -> (Int, Int, String)? in
            let list = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(appID)/pipelines?source=push", headers: root).array
            guard let first = list.first, let status = first["status"] as? String, ["success", "failed", "canceled"].contains(status) else { return nil }
            return (first["id"] as? Int ?? 0, first["iid"] as? Int ?? 0, status)
        }
        let bridges = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(appID)/pipelines/\(parentID)/bridges", headers: root).array
        #expect(parentStatus == "success", "\(bridges)")
        let byName = Dictionary(uniqueKeysWithValues: bridges.map { ($0["name"] as? String ?? "", $0) })
        #expect(byName["child"]?["status"] as? String == "success" && byName["deploy"]?["status"] as? String == "success", "\(bridges)")

        let child = try #require(byName["child"]?["downstream_pipeline"] as? [String: Any])
        let childJobs = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(appID)/pipelines/\(child["id"] as? Int ?? 0)/jobs", headers: root).array
        let generatedID = try #require(childJobs.first { $0["name"] as? String == "generated-job" }?["id"] as? Int)
        let childTrace = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(appID)/jobs/\(generatedID)/trace", headers: root).text
        #expect(childTrace.contains("generated for parent_pipeline with artifact"), "\(childTrace)")

        let shipped = try #require(byName["deploy"]?["downstream_pipeline"] as? [String: Any])
        #expect(shipped["project_id"] as? Int == deployID)
        let shipJobs = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(deployID)/pipelines/\(shipped["id"] as? Int ?? 0)/jobs", headers: root).array
        let shipID = try #require(shipJobs.first?["id"] as? Int)
        let shipTrace = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(deployID)/jobs/\(shipID)/trace", headers: root).text
        #expect(shipTrace.contains("shipping from pipeline version 1.\(parentIID)"), "\(shipTrace)")

        let jobs = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(appID)/pipelines/\(parentID)/jobs", headers: root).array
        #expect(Set(jobs.compactMap { $0["name"] as? String }) == ["generate", "report"])
        #expect(jobs.allSatisfy { $0["status"] as? String == "success" }, "\(jobs)")
    }
}
