import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

/// A job's `permissions:` narrowing its own token, and the project and instance ceilings over them (issue 16), through the real
/// routes: REST, git smart HTTP, the project and application settings APIs and the job's trace.
@Suite("Job token permissions")
struct JobTokenPermissionsTests {
    static func trace(_ server: TestServer, _ jobID: Int64) -> String {
        String(decoding: server.environment.traces.read(jobID: jobID), as: UTF8.self)
    }

    /// `git clone`'s first request, with the job token as git sends it.
    static func gitAdvertisement(_ client: some TestClientProtocol, project: String, token: String) async throws -> HTTPResponse.Status {
        var headers = HTTPFields()
        headers[.authorization] = "Basic " + Data("gitlab-ci-token:\(token)".utf8).base64EncodedString()
        return try await client.execute(uri: "/\(project).git/info/refs?service=git-upload-pack", method: .get, headers: headers, body: nil) { $0.status }
    }

    @Test("a job with permissions: {repository: read} clones and reads files but cannot publish a package; the 403 and the trace name the permission", arguments: TestBackend.all)
    func repositoryReadOnly(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let app = try await client.createProject(["name": "app"], token: server.rootToken).id
            let job = try await client.runningJob(
                server, projectID: app, userToken: server.rootToken, ciFile: "build:\n  permissions: {repository: read}\n  script: [make]\n")

            #expect(try await Self.gitAdvertisement(client, project: "root/app", token: job.token) == .ok)
            let file = try await client.api(.get, "projects/\(app)/repository/files/.gitlab-ci.yml/raw?ref=main", headers: job.headers)
            #expect(file.status == .ok && file.text.contains("permissions"), "\(file.status) \(file.text)")

            let publish = try await client.send(.put, "projects/\(app)/packages/generic/tool/1.0.0/tool.bin", .jobHeader(job.token), body: Data("x".utf8))
            #expect(publish.status == .forbidden)
            #expect(
                publish.string("message")
                    == "403 Forbidden - The job token's permissions do not include packages: write (limited by the job's permissions: in .gitlab-ci.yml).")
            let read = try await client.send(.get, "projects/\(app)/packages/generic/tool/1.0.0/tool.bin", .jobHeader(job.token))
            #expect(read.status == .forbidden && read.text.contains("packages: read"), "\(read.text)")
            // Root (an administrator) could do all of it with a token that asked for everything.
            #expect(try await client.send(.put, "projects/\(app)/packages/generic/tool/1.0.0/tool.bin", .pat(server.rootToken), body: Data("x".utf8)).status == .created)

            let trace = Self.trace(server, job.jobID)
            #expect(trace.contains("this job's token may use: repository: read."), "\(trace)")
            #expect(trace.contains("job token refused: create_package on root/app from root/app: the job's permissions: in .gitlab-ci.yml do not include packages: write"), "\(trace)")
        }
    }

    @Test("permissions: {} leaves the token only GET /job; without permissions: the token keeps every job-token ability", arguments: TestBackend.all)
    func emptyAndUndeclared(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let app = try await client.createProject(["name": "app"], token: server.rootToken).id
            let none = try await client.runningJob(server, projectID: app, userToken: server.rootToken, ciFile: "build:\n  permissions: {}\n  script: [make]\n")
            #expect(try await Self.gitAdvertisement(client, project: "root/app", token: none.token) == .forbidden)
            #expect(try await client.api(.get, "job", headers: none.headers).status == .ok)
            #expect(Self.trace(server, none.jobID).contains("this job's token may use: none."))

            let other = try await client.createProject(["name": "other"], token: server.rootToken).id
            let plain = try await client.runningJob(server, projectID: other, userToken: server.rootToken)
            #expect(try await Self.gitAdvertisement(client, project: "root/other", token: plain.token) == .ok)
            #expect(try await client.send(.put, "projects/\(other)/packages/generic/t/1.0.0/t.bin", .jobHeader(plain.token), body: Data("x".utf8)).status == .created)
            #expect(!Self.trace(server, plain.jobID).contains("this job's token may use"))
        }
    }

    @Test("the project's ceiling clamps what YAML asks (the trace says so at start) and a Maintainer sets it through the API", arguments: TestBackend.all)
    func projectCeilingClamps(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (developer, developerToken) = try await server.makeUser("dev")
            let app = try await client.createProject(["name": "app"], token: server.rootToken).id
            #expect(try await client.api(.post, "projects/\(app)/members", token: server.rootToken, json: ["user_id": developer.id, "access_level": 30]).status == .created)

            // Only a Maintainer changes it; a wrong value is a 400 naming the parameter.
            #expect(try await client.api(.put, "projects/\(app)", token: developerToken, json: ["ci_job_token_permissions_ceiling": "read-all"]).status == .forbidden)
            let bad = try await client.api(.put, "projects/\(app)", token: server.rootToken, json: ["ci_job_token_permissions_ceiling": ["deploy": "write"]])
            #expect(bad.status == .badRequest && bad.text.contains("ci_job_token_permissions_ceiling") && bad.text.contains("deploy"), "\(bad.text)")
            let set = try await client.api(.put, "projects/\(app)", token: server.rootToken, json: ["ci_job_token_permissions_ceiling": ["repository": "read", "packages": "read"]])
            #expect(set.status == .ok, "\(set.text)")
            #expect(set.object["ci_job_token_permissions_ceiling"] as? [String: String] == ["repository": "read", "packages": "read"])

            let job = try await client.runningJob(
                server, projectID: app, userToken: developerToken, ciFile: "build:\n  permissions: {packages: write, repository: read}\n  script: [make]\n")
            let trace = Self.trace(server, job.jobID)
            #expect(trace.contains("this job's token may use: repository: read, packages: read"), "\(trace)")
            #expect(trace.contains("permissions: asked for packages: write, clamped to packages: read by the project's job token permissions ceiling"), "\(trace)")
            let publish = try await client.send(.put, "projects/\(app)/packages/generic/tool/1.0.0/tool.bin", .jobHeader(job.token), body: Data("x".utf8))
            #expect(publish.status == .forbidden)
            #expect(publish.string("message")?.contains("packages: write (limited by the project's job token permissions ceiling)") == true, "\(publish.text)")
            #expect(Self.trace(server, job.jobID).contains("root/app's job token permissions ceiling (Settings > CI/CD > Token Access) does not include packages: write"))
            #expect(try await Self.gitAdvertisement(client, project: "root/app", token: job.token) == .ok)

            // Lifting the ceiling holds from the running job's next request; so does setting it again.
            #expect(try await client.api(.put, "projects/\(app)", token: server.rootToken, json: ["ci_job_token_permissions_ceiling": NSNull()]).object["ci_job_token_permissions_ceiling"] is NSNull)
            #expect(try await client.send(.put, "projects/\(app)/packages/generic/tool/1.0.0/tool.bin", .jobHeader(job.token), body: Data("x".utf8)).status == .created)
            #expect(try await client.api(.put, "projects/\(app)", token: server.rootToken, form: "ci_job_token_permissions_ceiling=none").status == .ok)
            #expect(try await Self.gitAdvertisement(client, project: "root/app", token: job.token) == .forbidden)
        }
    }

    @Test("the instance's ceiling applies to every project's jobs, administrators set it, and a job without permissions: gets the ceiling", arguments: TestBackend.all)
    func instanceCeiling(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, userToken) = try await server.makeUser("alice")
            #expect(try await client.api(.put, "application/settings", token: userToken, json: ["ci_job_token_permissions_ceiling": "read-all"]).status == .forbidden)
            let bad = try await client.api(.put, "application/settings", token: server.rootToken, json: ["ci_job_token_permissions_ceiling": ["jobs": "write"]])
            #expect(bad.status == .badRequest && bad.text.contains("jobs"), "\(bad.text)")
            let set = try await client.api(.put, "application/settings", token: server.rootToken, json: ["ci_job_token_permissions_ceiling": "read-all"])
            #expect(set.status == .ok)
            #expect((set.object["ci_job_token_permissions_ceiling"] as? [String: String])?["packages"] == "read", "\(set.text)")

            let app = try await client.createProject(["name": "app"], token: server.rootToken).id
            let job = try await client.runningJob(server, projectID: app, userToken: server.rootToken)
            #expect(Self.trace(server, job.jobID).contains("this job's token may use: repository: read, jobs: read, pipelines: read, packages: read, releases: read, container_registry: read, deployments: read, secure_files: read."))
            let publish = try await client.send(.put, "projects/\(app)/packages/generic/tool/1.0.0/tool.bin", .jobHeader(job.token), body: Data("x".utf8))
            #expect(publish.status == .forbidden && publish.text.contains("instance's job token permissions ceiling"), "\(publish.text)")
            #expect(try await Self.gitAdvertisement(client, project: "root/app", token: job.token) == .ok)
        }
    }

    @Test("an invalid permissions: refuses the pipeline with a message naming the keyword and the job")
    func invalidPermissionsRefused() throws {
        let cases: [(String, String)] = [
            ("permissions: {deploy: write}", "jobs:build:permissions config contains unknown keys: deploy"),
            ("permissions: {packages: admin}", "jobs:build:permissions packages config should be one of: none, read, write"),
            ("permissions: {jobs: write}", "jobs:build:permissions jobs config should be one of: none, read"),
            ("permissions: {packages: [read]}", "jobs:build:permissions:packages config should be a string: none, read or write"),
            ("permissions: [repository]", "jobs:build:permissions config should be a hash, read-all or write-all"),
            ("permissions: true", "jobs:build:permissions config should be a hash, read-all or write-all"),
        ]
        for (entry, message) in cases {
            do {
                _ = try CIConfigParser.parse("build:\n  \(entry)\n  script: [make]\n")
                Issue.record("accepted \(entry)")
            } catch {
                #expect(error.messages.contains { $0.hasPrefix(message) }, "\(entry): \(error.messages)")
            }
        }
    }

    @Test("permissions: comes from default: unless the job sets its own or inherits no defaults")
    func defaultsApply() throws {
        let definition = try CIConfigParser.parse(
            """
            default:
              permissions: {repository: read}
            build:
              script: [make]
            publish:
              permissions: {packages: write}
              script: [make]
            loose:
              inherit: {default: false}
              script: [make]
            everything:
              permissions: write-all
              script: [make]
            """)
        let byName = Dictionary(uniqueKeysWithValues: definition.jobs.map { ($0.name, $0.permissions) })
        #expect(byName["build"] == JobTokenPermissions([.repository: .read]))
        #expect(byName["publish"] == JobTokenPermissions([.packages: .write]))
        #expect(byName["loose"] == .some(nil))
        #expect(byName["everything"] == JobTokenPermissions.all)
    }

    @Test("a pipeline whose permissions: is invalid is refused through the API with GitLab's yaml error shape", arguments: TestBackend.all)
    func invalidPipelineThroughAPI(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let app = try await client.createProject(["name": "app"], token: server.rootToken).id
            try GitFixtures.commit(
                [".gitlab-ci.yml": "build:\n  permissions: {packages: admin}\n  script: [make]\n"], to: server.environment.repositories.path(projectID: app))
            let pipeline = try await client.api(.post, "projects/\(app)/pipeline", token: server.rootToken, json: ["ref": "main"])
            #expect(pipeline.status == .badRequest)
            #expect(pipeline.text.contains("jobs:build:permissions packages config should be one of: none, read, write"), "\(pipeline.text)")
        }
    }
}
