import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// Environments and deployments: made by jobs with `environment:`, their variables, the stop flow, and GitLab's APIs.
@Suite("Environments and deployments")
struct EnvironmentsAPITests {
    static let ci = """
        stages: [deploy, cleanup]
        review:
          stage: deploy
          script: echo review
          environment:
            name: review/$CI_COMMIT_REF_SLUG
            url: https://$CI_COMMIT_REF_SLUG.review.example.com
            on_stop: stop_review
        production:
          stage: deploy
          script: echo production
          environment: production
        stop_review:
          stage: cleanup
          script: echo stop
          when: manual
          environment:
            name: review/$CI_COMMIT_REF_SLUG
            action: stop
        """

    static func variables(_ claimed: APIResponse) -> [String: String] {
        (claimed.object["variables"] as? [[String: Any]] ?? []).reduce(into: [String: String]()) { $0[$1["key"] as? String ?? ""] = $1["value"] as? String }
    }

    @Test("jobs with environment: make environments and deployments, get CI_ENVIRONMENT_* and only their scoped variables; stop runs on_stop", arguments: TestBackend.all)
    func pipelineFlow(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            try GitFixtures.commit([".gitlab-ci.yml": Self.ci], to: server.environment.repositories.path(projectID: project.id))
            let variables = "projects/\(project.id)/variables"
            _ = try await client.api(.post, variables, token: alice, json: ["key": "DEPLOY_KEY", "value": "prod-secret", "environment_scope": "production"])
            _ = try await client.api(.post, variables, token: alice, json: ["key": "DEPLOY_KEY", "value": "review-secret", "environment_scope": "review/*"])
            let pipeline = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            #expect(pipeline.status == .created, "\(pipeline.text)")

            let environments = try await client.api(.get, "projects/\(project.id)/environments", token: alice)
            #expect(environments.status == .ok, "\(environments.text)")
            let byName = Dictionary(uniqueKeysWithValues: environments.array.map { ($0["name"] as? String ?? "", $0) })
            #expect(Set(byName.keys) == ["review/main", "production"])
            #expect(byName["review/main"]?["external_url"] as? String == "https://main.review.example.com")
            #expect(byName["review/main"]?["tier"] as? String == "development")
            #expect(byName["production"]?["tier"] as? String == "production")
            #expect(byName["production"]?["slug"] as? String == "production")
            #expect(byName["review/main"]?["state"] as? String == "available")
            let reviewSlug = try #require(byName["review/main"]?["slug"] as? String)
            #expect(reviewSlug.hasPrefix("review-main-") && reviewSlug.count == 18, "\(reviewSlug)")

            let registration = try await server.environment.registrationToken()
            let runnerToken = try #require(try await client.api(.post, "runners", json: ["token": registration]).object["token"] as? String)
            var seen: [String: [String: String]] = [:]
            for _ in 0..<2 {
                let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
                #expect(claimed.status == .created)
                let values = Self.variables(claimed)
                seen[values["CI_JOB_NAME"] ?? ""] = values
                let running = try await client.api(.get, "projects/\(project.id)/deployments?status=running", token: alice)
                #expect(running.array.count == 1, "\(running.text)")
                _ = try await client.api(.put, "jobs/\(claimed.id)", json: ["token": claimed.object["token"] as? String ?? "", "state": "success"])
            }
            #expect(seen["review"]?["CI_ENVIRONMENT_NAME"] == "review/main")
            #expect(seen["review"]?["CI_ENVIRONMENT_SLUG"] == reviewSlug)
            #expect(seen["review"]?["CI_ENVIRONMENT_URL"] == "https://main.review.example.com")
            #expect(seen["review"]?["CI_ENVIRONMENT_ACTION"] == "start")
            #expect(seen["review"]?["CI_ENVIRONMENT_TIER"] == "development")
            #expect(seen["review"]?["DEPLOY_KEY"] == "review-secret")
            #expect(seen["production"]?["CI_ENVIRONMENT_NAME"] == "production")
            #expect(seen["production"]?["DEPLOY_KEY"] == "prod-secret")
            #expect(seen["production"]?["CI_ENVIRONMENT_URL"] == nil)

            let deployments = try await client.api(.get, "projects/\(project.id)/deployments?order_by=iid&sort=asc", token: alice)
            #expect(deployments.array.compactMap { $0["iid"] as? Int } == [1, 2], "\(deployments.text)")
            #expect(deployments.array.allSatisfy { $0["status"] as? String == "success" })
            let first = try #require(deployments.array.first)
            #expect((first["deployable"] as? [String: Any])?["name"] as? String == "review")
            #expect((first["user"] as? [String: Any])?["username"] as? String == "alice")
            #expect((first["environment"] as? [String: Any])?["name"] as? String == "review/main")
            #expect(first["ref"] as? String == "main")

            // Stopping the review app plays its on_stop job; the environment is stopping until the job succeeds.
            let reviewID = try #require(byName["review/main"]?["id"] as? Int)
            let shown = try await client.api(.get, "projects/\(project.id)/environments/\(reviewID)", token: alice)
            #expect((shown.object["last_deployment"] as? [String: Any])?["iid"] as? Int == 1)
            let stopping = try await client.api(.post, "projects/\(project.id)/environments/\(reviewID)/stop", token: alice)
            #expect(stopping.status == .ok, "\(stopping.text)")
            #expect(stopping.string("state") == "stopping")
            #expect(try await client.api(.delete, "projects/\(project.id)/environments/\(reviewID)", token: alice).status == .forbidden)
            let stopJob = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            #expect(Self.variables(stopJob)["CI_JOB_NAME"] == "stop_review")
            #expect(Self.variables(stopJob)["CI_ENVIRONMENT_ACTION"] == "stop")
            #expect(Self.variables(stopJob)["DEPLOY_KEY"] == "review-secret")
            _ = try await client.api(.put, "jobs/\(stopJob.id)", json: ["token": stopJob.object["token"] as? String ?? "", "state": "success"])
            #expect(try await client.api(.get, "projects/\(project.id)/environments/\(reviewID)", token: alice).string("state") == "stopped")
            let stopped = try await client.api(.get, "projects/\(project.id)/environments?states=stopped", token: alice)
            #expect(stopped.array.compactMap { $0["name"] as? String } == ["review/main"])
            // A stop job's run is no deployment.
            #expect(try await client.api(.get, "projects/\(project.id)/deployments", token: alice).array.count == 2)
            #expect(try await client.api(.delete, "projects/\(project.id)/environments/\(reviewID)", token: alice).status == .noContent)
            #expect(try await client.api(.get, "projects/\(project.id)/environments/\(reviewID)", token: alice).status == .notFound)
        }
    }

    @Test("a Developer who may not run the stop job may not stop the environment, forced or not; a Maintainer may")
    func stopNeedsTheStopJob() async throws {
        try await withTestServer { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (developer, developerToken) = try await server.makeUser("dev")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: developer.id, level: Level.developer, token: alice)
            try GitFixtures.commit([".gitlab-ci.yml": Self.ci], to: server.environment.repositories.path(projectID: project.id))
            // main: only Maintainers push or merge, so only they run its jobs.
            _ = try await client.api(.patch, "projects/\(project.id)/protected_branches/main", token: alice, json: ["push_access_level": 40])
            #expect(try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"]).status == .created)
            let review = try #require(try await client.api(.get, "projects/\(project.id)/environments?name=review/main", token: alice).array.first?["id"] as? Int)
            for force in [false, true] {
                let refused = try await client.api(.post, "projects/\(project.id)/environments/\(review)/stop", token: developerToken, json: ["force": force])
                #expect(refused.status == .forbidden, "force \(force): \(refused.text)")
            }
            #expect(try await client.api(.get, "projects/\(project.id)/environments/\(review)", token: alice).string("state") == "available")
            let stopped = try await client.api(.post, "projects/\(project.id)/environments/\(review)/stop", token: alice)
            #expect(stopped.status == .ok && ["stopping", "stopped"].contains(stopped.string("state") ?? ""), "\(stopped.text)")
        }
    }

    @Test("environment names and URLs expand YAML and predefined variables only, never CI/CD settings; on_stop must still match once expanded")
    func expansion() async throws {
        try await withTestServer { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            _ = try await client.api(.post, "projects/\(project.id)/variables", token: alice, json: ["key": "PROT_SECRET", "value": "hunter2-value", "protected": true])
            let ci = "deploy:\n  script: echo\n  environment:\n    name: production\n    url: https://prod.example.com/$PROT_SECRET\n"
            let repository = server.environment.repositories.path(projectID: project.id)
            try GitFixtures.commit([".gitlab-ci.yml": ci], to: repository)
            #expect(try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"]).status == .created)
            let url = try await client.api(.get, "projects/\(project.id)/environments", token: alice).array.first?["external_url"] as? String
            // An unknown variable expands to nothing, as GitLab expands it; the secret never shows.
            #expect(url == "https://prod.example.com/", "\(url ?? "nil")")

            let mismatched = """
                deploy:
                  script: echo
                  variables: {X: review-zz}
                  environment: {name: $X, on_stop: halt}
                halt:
                  script: echo
                  when: manual
                  variables: {X: production}
                  environment: {name: $X, action: stop}
                """
            try GitFixtures.commit([".gitlab-ci.yml": mismatched], to: repository)
            let refused = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains("on_stop job halt have different environment name"), "\(refused.text)")
        }
    }

    @Test("the environments and deployments APIs with GitLab's validations and refusals", arguments: TestBackend.all)
    func api(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (reporter, reporterToken) = try await server.makeUser("rep")
            let (_, outsider) = try await server.makeUser("outsider")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: reporter.id, level: Level.reporter, token: alice)
            let sha = try GitFixtures.commit(["README.md": "hi\n"], to: server.environment.repositories.path(projectID: project.id))
            let base = "projects/\(project.id)/environments"

            let created = try await client.api(.post, base, token: alice, json: ["name": "staging", "external_url": "https://staging.example.com"])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.string("tier") == "staging")
            #expect(created.string("state") == "available")
            let id = try #require(created.object["id"] as? Int)
            #expect(try await client.api(.post, base, token: alice, json: ["name": "staging"]).status == .badRequest)
            for bad in ["/x", "x/", "a\"b", "a;b", String(repeating: "a", count: 256)] {
                #expect(try await client.api(.post, base, token: alice, json: ["name": bad]).status == .badRequest, "\(bad.prefix(10))")
            }
            #expect(try await client.api(.post, base, token: alice, json: ["name": "x", "external_url": "javascript:alert(1)"]).status == .badRequest)
            #expect(try await client.api(.post, base, token: alice, json: ["name": "y", "tier": "moon"]).status == .badRequest)
            let updated = try await client.api(.put, "\(base)/\(id)", token: alice, json: ["external_url": "https://new.example.com", "tier": "production"])
            #expect(updated.string("external_url") == "https://new.example.com")
            #expect(updated.string("tier") == "production")
            #expect(try await client.api(.put, "\(base)/\(id)", token: alice, json: ["name": "other"]).status == .badRequest)
            #expect(try await client.api(.get, "\(base)?name=staging&search=sta", token: alice).status == .badRequest)
            #expect(try await client.api(.get, "\(base)?search=stag", token: alice).array.count == 1)
            #expect(try await client.api(.get, "\(base)?states=nope", token: alice).status == .badRequest)

            // Deployments recorded through the API.
            let deployments = "projects/\(project.id)/deployments"
            let recorded = try await client.api(.post, deployments, token: alice, json: ["environment": "staging", "sha": sha, "ref": "main", "tag": false, "status": "running"])
            #expect(recorded.status == .created, "\(recorded.text)")
            #expect(recorded.string("status") == "running")
            #expect(recorded.object["deployable"] is NSNull)
            let deploymentID = try #require(recorded.object["id"] as? Int)
            #expect(try await client.api(.delete, "\(deployments)/\(deploymentID)", token: alice).string("message") == "Cannot destroy running deployment")
            let finished = try await client.api(.put, "\(deployments)/\(deploymentID)", token: alice, json: ["status": "success"])
            #expect(finished.string("status") == "success")
            #expect(try await client.api(.put, "\(deployments)/\(deploymentID)", token: alice, json: ["status": "created"]).status == .badRequest)
            #expect(try await client.api(.delete, "\(deployments)/\(deploymentID)", token: alice).string("message") == "Deployment currently deployed to environment")
            let badRef = try await client.api(.post, deployments, token: alice, json: ["environment": "staging", "sha": sha, "ref": "nope", "status": "success"])
            #expect(badRef.status == .badRequest)
            #expect(try await client.api(.post, deployments, token: alice, json: ["environment": "staging", "sha": "zz", "ref": "main", "status": "success"]).status == .badRequest)
            let second = try await client.api(.post, deployments, token: alice, json: ["environment": "staging", "sha": sha, "ref": "main", "status": "success"])
            #expect(second.object["iid"] as? Int == 2)
            #expect(try await client.api(.delete, "\(deployments)/\(deploymentID)", token: alice).status == .noContent)
            let newEnvironment = try await client.api(.post, deployments, token: alice, json: ["environment": "canary", "sha": sha, "ref": "main", "status": "failed"])
            #expect(newEnvironment.status == .created)
            #expect(try await client.api(.get, "\(base)?name=canary", token: alice).array.count == 1)
            #expect(try await client.api(.get, "\(deployments)?environment=canary", token: alice).array.count == 1)
            #expect(try await client.api(.get, "\(deployments)?order_by=nope", token: alice).status == .badRequest)
            #expect(try await client.api(.get, "\(deployments)?status=nope", token: alice).status == .badRequest)

            // Reporters read; writing takes a Developer; outsiders see nothing; anonymous callers must sign in.
            #expect(try await client.api(.get, base, token: reporterToken).status == .ok)
            #expect(try await client.api(.get, deployments, token: reporterToken).status == .ok)
            #expect(try await client.api(.post, base, token: reporterToken, json: ["name": "r"]).status == .forbidden)
            #expect(try await client.api(.post, "\(base)/\(id)/stop", token: reporterToken).status == .forbidden)
            #expect(try await client.api(.post, deployments, token: reporterToken, json: ["environment": "staging", "sha": sha, "ref": "main", "status": "success"]).status == .forbidden)
            #expect(try await client.api(.get, base, token: outsider).status == .notFound)
            #expect(try await client.api(.get, "\(base)/\(id)", token: outsider).status == .notFound)
            #expect(try await client.api(.get, base).status == .unauthorized)

            // An available environment is stopped before it is deleted.
            #expect(try await client.api(.delete, "\(base)/\(id)", token: alice).status == .forbidden)
            #expect(try await client.api(.post, "\(base)/\(id)/stop", token: alice, json: ["force": true]).string("state") == "stopped")
            #expect(try await client.api(.delete, "\(base)/\(id)", token: alice).status == .noContent)
            #expect(try await client.api(.get, "\(base)/999999", token: alice).status == .notFound)
            #expect(try await client.api(.get, "\(base)/abc", token: alice).status == .notFound)
        }
    }

    @Test("a job token reads and records deployments in its own project; another project's are out of reach unless its allowlist admits the job")
    func jobToken() async throws {
        try await withTestServer { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let other = try await client.createProject(["name": "other"], token: alice)
            _ = try await client.api(.post, "projects/\(other.id)/environments", token: alice, json: ["name": "production"])
            let job = try await client.runningJob(server, projectID: project.id, userToken: alice, ciFile: "deploy:\n  script: echo\n  environment: production\n")
            let own = try await client.api(.get, "projects/\(project.id)/environments", headers: job.headers)
            #expect(own.status == .ok, "\(own.text)")
            #expect(own.array.compactMap { $0["name"] as? String } == ["production"])
            let deployments = try await client.api(.get, "projects/\(project.id)/deployments", headers: job.headers)
            #expect(deployments.array.first?["status"] as? String == "running")
            let sha = try #require(deployments.array.first?["sha"] as? String)
            let recorded = try await client.api(
                .post, "projects/\(project.id)/deployments", json: ["environment": "mirror", "sha": sha, "ref": "main", "status": "success"], headers: job.headers)
            #expect(recorded.status == .created, "\(recorded.text)")
            // The other project limits job tokens to its allowlist (the default), which does not name this project.
            let refused = try await client.api(.get, "projects/\(other.id)/environments", headers: job.headers)
            #expect(refused.status == .forbidden || refused.status == .notFound, "\(refused.status)")
            _ = try await client.api(
                .post, "projects/\(other.id)/job_token_scope/allowlist", token: alice, json: ["target_project_id": Int(project.id)])
            #expect(try await client.api(.get, "projects/\(other.id)/environments", headers: job.headers).status == .ok)
        }
    }
}
