import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
@testable import LatchkeyServer
import LatchkeyStore
import LatchkeyTestSupport
import Testing

/// The pipeline page: stage columns, GitLab's "passed with warnings", buttons by role, and the stuck hint.
@Suite("Pipeline page")
struct PipelinePageTests {
    @Test("a failure that was allowed makes the stage and pipeline read 'passed with warnings'; a real failure still fails")
    func stageStatuses() {
        #expect(WebPages.stageStatusView(["success", WebPages.warning]).label == "passed with warnings")
        #expect(WebPages.stageStatusView([WebPages.warning]).status == WebPages.warning)
        #expect(WebPages.stageStatusView(["failed", WebPages.warning]).status == "failed")
        #expect(WebPages.stageStatusView(["running", WebPages.warning]).status == "running")
        #expect(WebPages.stageStatusView(["success"]).label == "passed")
    }

    @Test("buttons show only to those who may update jobs; a pending job nobody can take says which tags no online runner has")
    func buttonsAndStuck() async throws {
        try await withTestServer(.sqlite) { server, client in
            let created = try await client.createProject(["name": "app"], token: server.rootToken)
            let ci = """
                stages: [build, deploy]
                build:
                  stage: build
                  tags: [docker, arm64]
                  script: echo build
                plain:
                  stage: build
                  script: echo plain
                approve:
                  stage: build
                  when: manual
                  script: echo approve
                ship:
                  stage: deploy
                  when: manual
                  needs: [build]
                  script: echo ship
                """
            try GitFixtures.commit([".gitlab-ci.yml": ci], to: server.environment.repositories.path(projectID: created.id))
            let pipeline = try await client.api(.post, "projects/\(created.id)/pipeline", token: server.rootToken, json: ["ref": "main"])
            try #require(pipeline.status == .created)
            let jobs = try await server.store.jobs.jobs(pipelineID: pipeline.id).items
            let build = try #require(jobs.first { $0.name == "build" })
            let approve = try #require(jobs.first { $0.name == "approve" })
            // One online runner with other tags: it can take the untagged job, not the docker/arm64 one.
            let registrationToken = try await server.environment.registrationToken()
            let runner = try await client.api(.post, "runners", json: ["token": registrationToken, "tag_list": "docker", "run_untagged": true])
            let runnerID = try #require(runner.object["id"] as? Int)
            try await server.store.runners.touch(id: Int64(runnerID))

            let (reporter, _) = try await server.makeUser("rita")
            try await client.addMember("projects", created.id, userID: reporter.id, level: Level.reporter, token: server.rootToken)
            let root = WebTestBrowser(client)
            try await root.signIn("root", password: "root-password")
            let page = try await root.get("/root/app/-/pipelines/\(pipeline.id)").text
            #expect(page.contains(#"action="/root/app/-/jobs/\#(approve.id)/play""#))
            #expect(page.contains(#"aria-label="Run approve""#))
            #expect(page.contains(#"action="/root/app/-/jobs/\#(build.id)/cancel""#))
            #expect(page.contains("needs: build"))
            #expect(page.contains("stuck: no online runner has the tags docker, arm64"))
            #expect(page.components(separatedBy: "stuck:").count == 2, "the untagged job has a runner")

            let rita = WebTestBrowser(client)
            try await rita.signIn("rita", password: "rita-password")
            let seen = try await rita.get("/root/app/-/pipelines/\(pipeline.id)").text
            #expect(seen.contains(" ship</a>"))
            #expect(!seen.contains("/play\""))
            #expect(!seen.contains("/cancel\""))
        }
    }
}
