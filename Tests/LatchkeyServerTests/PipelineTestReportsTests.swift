import Foundation
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// `GET /projects/:id/pipelines/:id/test_report` and `test_report_summary` from the JUnit reports jobs upload.
@Suite("Pipeline test reports")
struct PipelineTestReportsTests {
    static let ci = """
        rspec:
          parallel: 2
          script: [rspec]
          artifacts: {reports: {junit: rspec.xml}}
        lint:
          script: [lint]
          artifacts: {reports: {junit: lint.xml}}
        build:
          script: [make]
        """

    @Test("suites per job group with GitLab's counts, order and shapes; an unreadable report is that suite's error", arguments: TestBackend.all)
    func report(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (_, stranger) = try await server.makeUser("stranger")
            let project = try await client.createProject(["name": "app"], token: alice)
            try GitFixtures.commit([".gitlab-ci.yml": Self.ci], to: server.environment.repositories.path(projectID: project.id))
            let pipeline = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            let registration = try await server.environment.registrationToken()
            let runnerToken = try #require(try await client.api(.post, "runners", json: ["token": registration]).object["token"] as? String)
            let documents = [
                "rspec 1/2": "<testsuites><testsuite><testcase classname='spec.a' name='works' time='0.5'/><testcase classname='spec.a' name='breaks' time='2'><failure message='boom'>expected 1, got 2</failure></testcase></testsuite></testsuites>",
                "rspec 2/2": "<testsuite><testcase classname='spec.b' name='later' time='0.25'><skipped/></testcase></testsuite>",
                "lint": "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><testsuite><testcase name='&e;'/></testsuite>",
            ]
            var ids: [String: Int64] = [:]
            while true {
                let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
                guard claimed.status == .created else { break }
                let token = claimed.object["token"] as? String ?? ""
                let name = (claimed.object["job_info"] as? [String: Any])?["name"] as? String ?? ""
                ids[name] = claimed.id
                if let document = documents[name] {
                    let uploaded = try await DotenvReportFlowTests.upload(
                        client, jobID: claimed.id, token: token, bytes: Gzip.member(name: "report.xml", data: Array(document.utf8)), type: "junit")
                    #expect(uploaded.status == .created, "\(uploaded.text)")
                }
                _ = try await client.api(.put, "jobs/\(claimed.id)", json: ["token": token, "state": "success"])
            }
            #expect(ids.count == 4)

            let report = try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)/test_report", token: alice)
            #expect(report.status == .ok, "\(report.text)")
            #expect(report.object["total_count"] as? Int == 3 && report.object["failed_count"] as? Int == 1 && report.object["skipped_count"] as? Int == 1)
            #expect(report.object["success_count"] as? Int == 1 && report.object["error_count"] as? Int == 0 && report.object["total_time"] as? Double == 2.75)
            let suites = report.object["test_suites"] as? [[String: Any]] ?? []
            #expect(suites.map { $0["name"] as? String } == ["rspec", "lint"])
            let cases = suites.first?["test_cases"] as? [[String: Any]] ?? []
            #expect(cases.map { $0["name"] as? String } == ["breaks", "works", "later"])
            #expect(cases.first?["status"] as? String == "failed" && cases.first?["system_output"] as? String == "expected 1, got 2")
            #expect(cases.first?["classname"] as? String == "spec.a" && cases.first?["execution_time"] as? Double == 2)
            #expect(cases.first.map { $0.keys.contains("stack_trace") && $0.keys.contains("file") } == true)
            #expect(suites.last?["suite_error"] as? String == "JUnit XML parsing failed: DOCTYPE is not allowed")
            #expect(!report.text.contains("root:"), "nothing of /etc/passwd")

            let summary = try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)/test_report_summary", token: alice)
            let total = summary.object["total"] as? [String: Any] ?? [:]
            #expect(total["count"] as? Int == 3 && total["failed"] as? Int == 1 && total["time"] as? Double == 2.75, "\(summary.text)")
            #expect(total["suite_error"] as? String == "JUnit XML parsing failed: DOCTYPE is not allowed")
            let summarySuites = summary.object["test_suites"] as? [[String: Any]] ?? []
            let buildIDs = (summarySuites.first?["build_ids"] as? [NSNumber] ?? []).map(\.int64Value)
            #expect(Set(buildIDs) == Set([ids["rspec 1/2"], ids["rspec 2/2"]].compactMap { $0 }))

            // As GitLab: a stranger to the private project is told nothing; an unknown pipeline is 404.
            #expect(try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)/test_report", token: stranger).status == .notFound)
            #expect(try await client.api(.get, "projects/\(project.id)/pipelines/999999/test_report_summary", token: alice).status == .notFound)
            let empty = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            let none = try await client.api(.get, "projects/\(project.id)/pipelines/\(empty.id)/test_report", token: alice)
            #expect(none.object["total_count"] as? Int == 0 && (none.object["test_suites"] as? [Any])?.isEmpty == true, "\(none.text)")
        }
    }
}
