import Foundation
import HummingbirdTesting
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

/// `trigger:` bridges: child and multi-project pipelines started as the bridge's user, with GitLab's checks and statuses.
@Suite("Downstream pipelines (trigger:)")
struct DownstreamPipelinesTests {
    static let parent = """
        stages: [build, trigger, after]
        generate:
          stage: build
          script: make
        child:
          stage: trigger
          variables: {MODE: fast, REF_COPY: $CI_COMMIT_REF_NAME, SECRET_USE: $PROJECT_SECRET}
          trigger:
            include: [{local: ci/child.yml}]
            strategy: depend
        after:
          stage: after
          script: done
        """

    struct Runner {
        let client: any TestClientProtocol
        let token: String

        static func register(_ server: TestServer, _ client: any TestClientProtocol) async throws -> Runner {
            let registration = try await server.environment.registrationToken()
            let token = try #require(try await client.api(.post, "runners", json: ["token": registration]).object["token"] as? String)
            return Runner(client: client, token: token)
        }

        /// Claims the next job (nil when none is for runners) and, if asked, ends it with `state`.
        func claim(finishing state: String? = "success") async throws -> (name: String, variables: [String: String])? {
            let claimed = try await client.api(.post, "jobs/request", json: ["token": token])
            guard claimed.status == .created else { return nil }
            let variables = EnvironmentsAPITests.variables(claimed)
            if let state {
                _ = try await client.api(.put, "jobs/\(claimed.id)", json: ["token": claimed.object["token"] as? String ?? "", "state": state])
            }
            return (variables["CI_JOB_NAME"] ?? "", variables)
        }
    }

    static func starter(_ server: TestServer) -> DownstreamPipelineStarter {
        DownstreamPipelineStarter(environment: server.environment, creator: PipelineCreator(environment: server.environment, queue: JobQueue()))
    }

    @Test("a child pipeline with strategy: depend: never a runner's job, its variables forwarded, its end ends the bridge", arguments: TestBackend.all)
    func childDepend(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            try GitFixtures.commit(
                [".gitlab-ci.yml": Self.parent, "ci/child.yml": "child-test:\n  script: [test]\n"],
                to: server.environment.repositories.path(projectID: project.id))
            _ = try await client.api(.post, "projects/\(project.id)/variables", token: alice, json: ["key": "PROJECT_SECRET", "value": "s3cr3t-value"])
            let pipeline = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            #expect(pipeline.status == .created, "\(pipeline.text)")
            let runner = try await Runner.register(server, client)
            let starter = Self.starter(server)

            #expect(try await runner.claim()?.name == "generate")
            // The bridge is pending now, and no runner may take it.
            #expect(try await runner.claim() == nil)
            #expect(await starter.startPending() == 1)

            let bridges = try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)/bridges", token: alice)
            #expect(bridges.status == .ok, "\(bridges.text)")
            let bridge = try #require(bridges.array.first)
            #expect(bridges.array.count == 1 && bridge["name"] as? String == "child" && bridge["status"] as? String == "running")
            let downstream = try #require(bridge["downstream_pipeline"] as? [String: Any])
            #expect(downstream["source"] as? String == "parent_pipeline")
            #expect(downstream["sha"] as? String == pipeline.string("sha"))
            let childID = downstream.id
            let browser = WebTestBrowser(client)
            try await browser.signIn("alice", password: "alice-password")
            let page = try await browser.get("/alice/app/-/pipelines/\(pipeline.id)").text
            #expect(page.contains(#"<a href="/alice/app/-/pipelines/\#(childID)">triggered pipeline #\#(childID)</a>"#), "\(page)")
            // Forwarded YAML variables: expanded with the predefined ones; a project variable's reference stays as written.
            let forwarded = try await client.api(.get, "projects/\(project.id)/pipelines/\(childID)/variables", token: alice)
            let values = Dictionary(uniqueKeysWithValues: forwarded.array.map { ($0["key"] as? String ?? "", $0["value"] as? String ?? "") })
            #expect(values == ["MODE": "fast", "REF_COPY": "main", "SECRET_USE": "$PROJECT_SECRET"], "\(forwarded.text)")
            #expect(!forwarded.text.contains("s3cr3t-value"))

            // The jobs API lists builds only; a bridge is not a job there.
            let jobs = try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)/jobs", token: alice)
            #expect(jobs.array.compactMap { $0["name"] as? String } == ["generate", "after"])
            #expect(try await client.api(.get, "projects/\(project.id)/jobs/\(bridge.id)", token: alice).status == .notFound)

            let child = try #require(try await runner.claim())
            #expect(child.name == "child-test")
            #expect(child.variables["CI_PIPELINE_SOURCE"] == "parent_pipeline")
            #expect(child.variables["MODE"] == "fast")
            // The child job's runner sees the project's own variable; the forwarded reference expands there.
            #expect(child.variables["PROJECT_SECRET"] == "s3cr3t-value" && child.variables["SECRET_USE"] == "$PROJECT_SECRET")

            let childPipeline = try await client.api(.get, "projects/\(project.id)/pipelines/\(childID)", token: alice)
            #expect(childPipeline.string("status") == "success")
            let after = try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)/bridges", token: alice)
            #expect(after.array.first?["status"] as? String == "success", "\(after.text)")
            #expect(try await runner.claim()?.name == "after")
            #expect(try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)", token: alice).string("status") == "success")
        }
    }

    @Test("a failed child fails its depend bridge and what follows is skipped; without a strategy the bridge succeeds at once", arguments: TestBackend.all)
    func childFailure(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let ci = """
                stages: [trigger, after]
                depends: {stage: trigger, trigger: {include: ci/child.yml, strategy: depend}}
                fire: {stage: trigger, trigger: {include: ci/child.yml}}
                after: {stage: after, script: done}
                """
            try GitFixtures.commit([".gitlab-ci.yml": ci, "ci/child.yml": "child-test:\n  script: [test]\n"], to: server.environment.repositories.path(projectID: project.id))
            let pipeline = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            let runner = try await Runner.register(server, client)
            #expect(await Self.starter(server).startPending() == 2)
            var bridges = try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)/bridges", token: alice).array
            var statuses = Dictionary(uniqueKeysWithValues: bridges.map { ($0["name"] as? String ?? "", $0["status"] as? String ?? "") })
            #expect(statuses == ["depends": "running", "fire": "success"])
            // One child job fails, the other passes: only the depend bridge follows its child.
            let first = try #require(try await runner.claim(finishing: "failed"))
            let second = try #require(try await runner.claim())
            #expect(first.name == "child-test" && second.name == "child-test")
            bridges = try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)/bridges", token: alice).array
            statuses = Dictionary(uniqueKeysWithValues: bridges.map { ($0["name"] as? String ?? "", $0["status"] as? String ?? "") })
            #expect(statuses == ["depends": "failed", "fire": "success"])
            let parent = try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)", token: alice)
            #expect(parent.string("status") == "failed")
            #expect(try await runner.claim() == nil)
        }
    }

    @Test("multi-project: runs as the bridge's user on the downstream ref, refused with GitLab's failure reasons", arguments: TestBackend.all)
    func multiProject(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let upstream = try await client.createProject(["name": "app"], token: alice)
            let deploy = try await client.createProject(["name": "deploy"], token: alice)
            let other = try await client.createProject(["name": "other"], token: alice)
            try GitFixtures.commit(["deploy.sh": "x", ".gitlab-ci.yml": "ship:\n  script: [ship]\n"], to: server.environment.repositories.path(projectID: deploy.id))
            try GitFixtures.commit(["other.sh": "x", ".gitlab-ci.yml": "ship:\n  script: [ship]\n"], to: server.environment.repositories.path(projectID: other.id))
            let ci = """
                variables: {TARGET: alice/deploy}
                deploy: {trigger: {project: $TARGET, branch: main}, variables: {VERSION: "1.$CI_PIPELINE_IID"}}
                hidden: {trigger: alice/other}
                itself: {trigger: alice/app}
                missing: {trigger: {project: alice/deploy, branch: nowhere}}
                """
            try GitFixtures.commit([".gitlab-ci.yml": ci], to: server.environment.repositories.path(projectID: upstream.id))
            // Bob develops the app and the deploy project, but may not even see `other`.
            try await client.addMember("projects", upstream.id, userID: bob.id, level: Level.developer, token: alice)
            try await client.addMember("projects", deploy.id, userID: bob.id, level: Level.developer, token: alice)
            let pipeline = try await client.api(.post, "projects/\(upstream.id)/pipeline", token: bobToken, json: ["ref": "main"])
            #expect(pipeline.status == .created, "\(pipeline.text)")
            #expect(await Self.starter(server).startPending() == 4)

            let bridges = try await client.api(.get, "projects/\(upstream.id)/pipelines/\(pipeline.id)/bridges", token: bobToken).array
            let byName = Dictionary(uniqueKeysWithValues: bridges.map { ($0["name"] as? String ?? "", $0) })
            #expect(byName["deploy"]?["status"] as? String == "success")
            #expect(byName["hidden"]?["failure_reason"] as? String == "downstream_bridge_project_not_found")
            #expect(byName["itself"]?["failure_reason"] as? String == "invalid_bridge_trigger")
            #expect(byName["missing"]?["failure_reason"] as? String == "downstream_pipeline_creation_failed")
            let downstream = try #require(byName["deploy"]?["downstream_pipeline"] as? [String: Any])
            #expect(downstream["source"] as? String == "pipeline" && downstream["project_id"] as? Int64 == deploy.id)
            let made = try await client.api(.get, "projects/\(deploy.id)/pipelines/\(downstream.id)", token: alice)
            #expect((made.object["user"] as? [String: Any])?["username"] as? String == "bob")
            let variables = try await client.api(.get, "projects/\(deploy.id)/pipelines/\(downstream.id)/variables", token: alice)
            let values = Dictionary(uniqueKeysWithValues: variables.array.map { ($0["key"] as? String ?? "", $0["value"] as? String ?? "") })
            #expect(values["VERSION"] == "1.\(pipeline.object["iid"] as? Int ?? 0)" && values["TARGET"] == "alice/deploy", "\(variables.text)")

            // As a Reporter of the deploy project, bob may read it but not run pipelines there.
            _ = try await client.api(.put, "projects/\(deploy.id)/members/\(bob.id)", token: alice, json: ["access_level": Level.reporter])
            let again = try await client.api(.post, "projects/\(upstream.id)/pipeline", token: bobToken, json: ["ref": "main"])
            #expect(await Self.starter(server).startPending() == 4)
            let refused = try await client.api(.get, "projects/\(upstream.id)/pipelines/\(again.id)/bridges", token: bobToken).array
            #expect(refused.first { $0["name"] as? String == "deploy" }?["failure_reason"] as? String == "insufficient_bridge_permissions")
        }
    }

    @Test("children nest two levels deep, no deeper; canceling the parent cancels its children")
    func depthAndCancel() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let recursive = "wait: {script: [sleep]}\nagain: {trigger: {include: ci/child.yml}}\n"
            try GitFixtures.commit(
                [".gitlab-ci.yml": "start: {trigger: {include: ci/child.yml}}\n", "ci/child.yml": recursive],
                to: server.environment.repositories.path(projectID: project.id))
            let pipeline = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            let starter = Self.starter(server)
            // parent → child → grandchild; the grandchild's bridge would make a fourth level.
            var total = 0
            for _ in 0..<5 { total += await starter.startPending() }
            #expect(total == 3)
            let all = try await client.api(.get, "projects/\(project.id)/pipelines?source=parent_pipeline", token: alice)
            #expect(all.array.count == 2, "\(all.text)")
            let grandchild = try #require(all.array.max { $0.id < $1.id })
            let deepest = try await client.api(.get, "projects/\(project.id)/pipelines/\(grandchild.id)/bridges", token: alice)
            #expect(deepest.array.first?["failure_reason"] as? String == "reached_max_descendant_pipelines_depth", "\(deepest.text)")
            // Retrying it would only be refused again: GitLab does not offer it.
            #expect(try await server.store.jobs.retry(jobID: try #require(deepest.array.first?.id), userID: 1) == nil)

            // The parent and the child are finished already (their bridges have no strategy); the cancel still reaches the grandchild.
            _ = try await client.api(.post, "projects/\(project.id)/pipelines/\(pipeline.id)/cancel", token: alice)
            for child in all.array {
                let jobs = try await client.api(.get, "projects/\(project.id)/pipelines/\(child.id)/jobs", token: alice)
                #expect(jobs.array.map { $0["status"] as? String } == ["canceled"], "\(jobs.text)")
            }
            // The child ends canceled; the grandchild, whose bridge had failed, ends failed.
            let statuses = try await all.array.asyncMap { try await client.api(.get, "projects/\(project.id)/pipelines/\($0.id)", token: alice).string("status") ?? "" }
            #expect(Set(statuses) == ["canceled", "failed"])
        }
    }

    @Test("include:artifact outside a child pipeline fails the pipeline with GitLab's message")
    func artifactOutsideChild() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            try GitFixtures.commit(
                [".gitlab-ci.yml": "include: {artifact: gen.yml, job: generate}\nbuild: {script: x}\n"], to: server.environment.repositories.path(projectID: project.id))
            let pipeline = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            #expect(pipeline.status == .badRequest)
            #expect(pipeline.text.contains("Including configs from artifacts is only allowed when triggering child pipelines"), "\(pipeline.text)")
        }
    }

    @Test("canceling a parent reaches grandchildren under finished children, and a child made while its bridge was canceled")
    func cancelReachesEveryDescendant() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            try GitFixtures.commit(
                [
                    ".gitlab-ci.yml": "start: {trigger: {include: ci/child.yml}}\n", "ci/child.yml": "again: {trigger: {include: ci/grand.yml}}\n",
                    "ci/grand.yml": "wait: {script: [sleep]}\n",
                ], to: server.environment.repositories.path(projectID: project.id))
            let pipeline = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            let starter = Self.starter(server)
            for _ in 0..<3 { await starter.startPending() }
            #expect(try await client.api(.get, "projects/\(project.id)/pipelines/\(pipeline.id)", token: alice).string("status") == "success")
            let children = try await client.api(.get, "projects/\(project.id)/pipelines?source=parent_pipeline", token: alice).array
            #expect(children.count == 2)
            _ = try await client.api(.post, "projects/\(project.id)/pipelines/\(pipeline.id)/cancel", token: alice)
            let grandchild = try #require(children.max { $0.id < $1.id })
            let jobs = try await client.api(.get, "projects/\(project.id)/pipelines/\(grandchild.id)/jobs", token: alice)
            #expect(jobs.array.map { $0["status"] as? String } == ["canceled"], "\(jobs.text)")

            // A bridge taken by the starter, then canceled with its pipeline before its child exists: the child is canceled too.
            let second = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            let bridge = try #require(try await server.store.jobs.claimPendingBridge())
            #expect(bridge.pipelineID == second.id)
            _ = try await client.api(.post, "projects/\(project.id)/pipelines/\(second.id)/cancel", token: alice)
            await starter.start(bridge)
            let made = try #require(try await server.store.jobs.downstreamPipelines(ofBridges: [bridge.id])[bridge.id])
            let status = try await client.api(.get, "projects/\(project.id)/pipelines/\(made.id)", token: alice).string("status")
            #expect(status == "canceled", "\(status ?? "")")
        }
    }

    @Test("the web job page's retry honours protected refs as the API does")
    func webRetryOnProtectedRef() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, _) = try await server.makeUser("bob")
            let project = try await client.createProject(["name": "app"], token: alice)
            try GitFixtures.commit([".gitlab-ci.yml": "build: {script: [make]}\n"], to: server.environment.repositories.path(projectID: project.id))
            try await client.addMember("projects", project.id, userID: bob.id, level: Level.developer, token: alice)
            // The default branch starts protected with GitLab's defaults; make it Maintainers-only.
            _ = try await client.api(.delete, "projects/\(project.id)/protected_branches/main", token: alice)
            let protected = try await client.api(
                .post, "projects/\(project.id)/protected_branches", token: alice, json: ["name": "main", "push_access_level": 40, "merge_access_level": 40])
            #expect(protected.status == .created, "\(protected.text)")
            _ = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            let runner = try await Runner.register(server, client)
            #expect(try await runner.claim(finishing: "failed")?.name == "build")
            let job = try #require(try await server.store.jobs.jobs(projectID: project.id, page: PageRequest(page: 1, perPage: 20)).items.first)
            let browser = WebTestBrowser(client)
            try await browser.signIn("bob", password: "bob-password")
            _ = try await browser.get("/alice/app/-/jobs/\(job.id)")
            _ = try await browser.post("/alice/app/-/jobs/\(job.id)/retry")
            let after = try await server.store.jobs.jobs(projectID: project.id, page: PageRequest(page: 1, perPage: 20)).items
            #expect(after.count == 1, "a Developer retried a job on a Maintainer-only branch from the web")
        }
    }
}
