import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import NIOCore
import Testing

/// Projects with real commits, pipelines and claimed jobs, for the suites that exercise what a job token opens.
struct JobTokenFixture {
    let server: TestServer
    let client: any TestClientProtocol
    let runnerToken: String

    static let ciFile = """
        test:
          script: echo test
        """

    init(_ server: TestServer, _ client: any TestClientProtocol) async throws {
        self.server = server
        self.client = client
        let registration = try await server.environment.registrationToken()
        let runner = try await client.api(.post, "runners", json: ["token": registration, "description": "fixture"])
        runnerToken = try #require(runner.object["token"] as? String)
    }

    /// A project owned by root holding `.gitlab-ci.yml` on `main` (and on `branches`).
    func project(_ name: String, visibility: String = "private", branches: [String] = []) async throws -> Int64 {
        let created = try await client.createProject(["name": name, "visibility": visibility], token: server.rootToken)
        let id = created.id
        let repository = server.environment.repositories.path(projectID: id)
        try GitFixtures.commit([".gitlab-ci.yml": Self.ciFile, "README.md": "# \(name)\n"], to: repository)
        for branch in branches { try GitFixtures.commit([".gitlab-ci.yml": Self.ciFile], to: repository, branch: branch) }
        return id
    }

    /// Starts a pipeline on `ref` as the token's user and claims its job: the job is running and its token alive.
    func runningJob(_ projectID: Int64, ref: String = "main", as token: String? = nil) async throws -> (id: Int64, token: String) {
        let pipeline = try await client.api(.post, "projects/\(projectID)/pipeline", token: token ?? server.rootToken, json: ["ref": ref])
        try #require(pipeline.status == .created, "\(pipeline.text)")
        // Jobs of other pipelines (say, ones a trigger started) may be waiting first: run them to the end.
        while true {
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            try #require(claimed.status == .created, "no job to claim: \(claimed.status)")
            let id = try #require((claimed.object["id"] as? NSNumber)?.int64Value)
            let token = try #require(claimed.object["token"] as? String)
            if try await server.store.jobs.find(id: id)?.pipelineID == pipeline.id { return (id, token) }
            try await finish(jobID: id, token: token)
        }
    }

    /// Uploads `files` as the job's artifacts archive the way the runner does.
    func uploadArtifacts(jobID: Int64, token: String, files: [String: String]) async throws -> Data {
        let zip = try Zip.make(files)
        let boundary = "fixture-\(UUID().uuidString)"
        var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"artifacts.zip\"\r\nContent-Type: application/zip\r\n\r\n".utf8)
        body += zip
        body += Data("\r\n--\(boundary)--\r\n".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        headers[HTTPField.Name("JOB-TOKEN")!] = token
        let status = try await client.execute(
            uri: "/api/v4/jobs/\(jobID)/artifacts?artifact_type=archive&artifact_format=zip", method: .post, headers: headers, body: ByteBuffer(bytes: body)
        ) { $0.status }
        try #require(status == .created)
        return zip
    }

    /// Reports the job finished; its token dies.
    func finish(jobID: Int64, token: String, state: String = "success") async throws {
        let done = try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": state])
        try #require(done.status == .ok)
    }

    /// A successful pipeline on `ref` whose `test` job kept `files` as artifacts; returns the job id and the archive.
    func successfulJob(_ projectID: Int64, ref: String = "main", files: [String: String]) async throws -> (id: Int64, zip: Data) {
        let job = try await runningJob(projectID, ref: ref)
        let zip = try await uploadArtifacts(jobID: job.id, token: job.token, files: files)
        try await finish(jobID: job.id, token: job.token)
        return (job.id, zip)
    }

    /// Lets `source`'s jobs into `target` (the target's inbound allowlist).
    func allow(_ source: Int64, into target: Int64) async throws {
        let added = try await client.api(.post, "projects/\(target)/job_token_scope/allowlist", token: server.rootToken, json: ["target_project_id": source])
        try #require(added.status == .created, "\(added.text)")
    }

    /// A user with a token and the given role on the project (nil: no membership).
    func user(_ name: String, level: Int?, on projectID: Int64) async throws -> (User, String) {
        let (user, token) = try await server.makeUser(name)
        if let level { try await client.addMember("projects", projectID, userID: user.id, level: level, token: server.rootToken) }
        return (user, token)
    }
}

/// The ways a request can present a credential.
enum Credential {
    case pat(String)
    case jobHeader(String)
    case jobQuery(String)
    case bearer(String)
    case none

    var headers: HTTPFields {
        var headers = HTTPFields()
        switch self {
        case .pat(let token): headers[HTTPField.Name("PRIVATE-TOKEN")!] = token
        case .jobHeader(let token): headers[HTTPField.Name("JOB-TOKEN")!] = token
        case .bearer(let token): headers[.authorization] = "Bearer \(token)"
        case .jobQuery, .none: break
        }
        return headers
    }

    func path(_ path: String) -> String {
        guard case .jobQuery(let token) = self else { return path }
        return path + (path.contains("?") ? "&" : "?") + "job_token=\(token)"
    }
}

extension TestClientProtocol {
    /// Sends a request with the given credential, an optional raw body and extra headers.
    func send(
        _ method: HTTPRequest.Method, _ path: String, _ credential: Credential, body: Data? = nil, json: [String: any Sendable]? = nil, headers extra: HTTPFields = [:]
    ) async throws -> SentResponse {
        var headers = credential.headers
        for field in extra { headers[field.name] = field.value }
        if let json {
            headers[.contentType] = "application/json"
            return try await send(method, credential.path(path), headers: headers, body: try JSONSerialization.data(withJSONObject: json))
        }
        return try await send(method, credential.path(path), headers: headers, body: body)
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields, body: Data?) async throws -> SentResponse {
        try await execute(uri: "/api/v4/" + path, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) }) { response in
            SentResponse(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }
}

/// An answer to `send`, with the readers the suites use.
struct SentResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
    func string(_ key: String) -> String? { object[key] as? String }
}

/// Zip archives made by Python's zipfile, independent of the server's own zip code.
enum Zip {
    static func make(_ files: [String: String]) throws -> Data {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = directory.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: files).write(to: manifest)
        let output = directory.appendingPathComponent("out.zip")
        let script = "import json,sys,zipfile\nfiles=json.load(open(sys.argv[1]))\nz=zipfile.ZipFile(sys.argv[2],'w',zipfile.ZIP_DEFLATED)\n[z.writestr(k,v) for k,v in sorted(files.items())]\nz.close()\n"
        let (status, _) = try Subprocess.run(["/usr/bin/env", "python3", "-c", script, manifest.path, output.path], environment: ProcessInfo.processInfo.environment)
        guard status == 0 else { throw ZipFailure() }
        return try Data(contentsOf: output)
    }

    struct ZipFailure: Error {}
}

@Suite("Job artifacts API")
struct JobArtifactsAPITests {
    static let files = ["dist/app.txt": "hello from the build\n", "report.json": "{\"ok\":true}"]

    @Test("the latest successful job's archive downloads by ref and job name, with GitLab's headers and Range", arguments: TestBackend.all)
    func downloadByRef(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await fixture.project("app", branches: ["feature/x"])
            let (jobID, zip) = try await fixture.successfulJob(projectID, files: Self.files)
            let root = Credential.pat(server.rootToken)

            let download = try await client.send(.get, "projects/\(projectID)/jobs/artifacts/main/download?job=test", root)
            #expect(download.status == .ok)
            #expect(download.body == zip)
            #expect(download.header("Content-Disposition") == "attachment; filename=\"artifacts.zip\"; filename*=UTF-8''artifacts.zip")
            #expect(download.header("Content-Transfer-Encoding") == "binary")
            #expect(download.header("Content-Length") == String(zip.count))
            var range = HTTPFields()
            range[.range] = "bytes=0-9"
            let partial = try await client.send(.get, "projects/\(projectID)/jobs/artifacts/main/download?job=test", root, headers: range)
            #expect(partial.status == .partialContent)
            #expect(partial.body == zip.prefix(10))
            #expect(partial.header("Content-Range") == "bytes 0-9/\(zip.count)")

            // The job entity names the archive, the runner that ran the job and the commit it built.
            let entity = try await client.send(.get, "projects/\(projectID)/jobs/\(jobID)", root).object
            #expect((entity["artifacts_file"] as? [String: Any])?["filename"] as? String == "artifacts.zip")
            #expect((entity["artifacts_file"] as? [String: Any])?["size"] as? Int == zip.count)
            #expect((entity["artifacts"] as? [[String: Any]])?.first?["file_type"] as? String == "archive")
            #expect((entity["runner"] as? [String: Any])?["description"] as? String == "fixture")
            let commit = try #require(entity["commit"] as? [String: Any])
            #expect(commit["title"] as? String == "change")
            #expect((commit["author_name"] as? String)?.isEmpty == false)
            let listed = try await client.send(.get, "projects/\(projectID)/jobs", root).array
            #expect((listed.first?["commit"] as? [String: Any])?["message"] as? String == "change\n" || (listed.first?["commit"] as? [String: Any])?["message"] as? String == "change")

            // By job id, the archive and one file out of it.
            #expect(try await client.send(.get, "projects/\(projectID)/jobs/\(jobID)/artifacts", root).body == zip)
            let file = try await client.send(.get, "projects/\(projectID)/jobs/\(jobID)/artifacts/dist/app.txt", root)
            #expect(file.status == .ok)
            #expect(file.text == "hello from the build\n")
            #expect(file.header("Content-Disposition")?.hasPrefix("attachment; filename=\"app.txt\"") == true)
            let raw = try await client.send(.get, "projects/\(projectID)/jobs/artifacts/main/raw/report.json?job=test", root)
            #expect(raw.text == "{\"ok\":true}")

            // Ref names with `/`, raw and encoded.
            let (_, branchZip) = try await fixture.successfulJob(projectID, ref: "feature/x", files: ["branch.txt": "branch"])
            #expect(try await client.send(.get, "projects/\(projectID)/jobs/artifacts/feature/x/download?job=test", root).body == branchZip)
            #expect(try await client.send(.get, "projects/\(projectID)/jobs/artifacts/feature%2Fx/download?job=test", root).body == branchZip)
            #expect(try await client.send(.get, "projects/\(projectID)/jobs/artifacts/feature/x/raw/branch.txt?job=test", root).text == "branch")
            #expect(try await client.send(.get, "projects/\(projectID)/jobs/artifacts/feature%2Fx/raw/branch.txt?job=test", root).text == "branch")

            // What is not there, and what may not be asked for.
            let noJob = try await client.send(.get, "projects/\(projectID)/jobs/artifacts/main/download?job=deploy", root)
            #expect(noJob.status == .notFound)
            #expect(noJob.string("message") == "404 Not found")
            #expect(try await client.send(.get, "projects/\(projectID)/jobs/artifacts/nope/download?job=test", root).status == .notFound)
            let missingJob = try await client.send(.get, "projects/\(projectID)/jobs/artifacts/main/download", root)
            #expect(missingJob.status == .badRequest)
            #expect(missingJob.object["error"] as? String == "job is missing")
            #expect(try await client.send(.get, "projects/\(projectID)/jobs/\(jobID)/artifacts/missing.txt", root).status == .notFound)
            #expect(try await client.send(.get, "projects/\(projectID)/jobs/\(jobID)/artifacts/dist", root).status == .notFound)
            for traversal in ["dist/../report.json", "dist/%2E%2E/report.json", "..%2F..%2Fetc%2Fpasswd"] {
                let refused = try await client.send(.get, "projects/\(projectID)/jobs/\(jobID)/artifacts/\(traversal)", root)
                #expect(refused.status == .badRequest, "\(traversal)")
            }
            #expect(try await client.send(.get, "projects/\(projectID)/jobs/999999/artifacts", root).status == .notFound)
        }
    }

    @Test("a running job's token downloads by header, query and Bearer; a dead token gets 401", arguments: TestBackend.all)
    func jobTokens(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await fixture.project("app")
            let (jobID, zip) = try await fixture.successfulJob(projectID, files: Self.files)
            let running = try await fixture.runningJob(projectID)
            for credential in [Credential.jobHeader(running.token), .jobQuery(running.token), .bearer(running.token)] {
                let response = try await client.send(.get, "projects/\(projectID)/jobs/artifacts/main/download?job=test", credential)
                #expect(response.status == .ok)
                #expect(response.body == zip)
            }
            #expect(try await client.send(.get, "projects/\(projectID)/jobs/\(jobID)/artifacts/dist/app.txt", .jobHeader(running.token)).status == .ok)
            try await fixture.finish(jobID: running.id, token: running.token)
            let dead = try await client.send(.get, "projects/\(projectID)/jobs/\(jobID)/artifacts", .jobHeader(running.token))
            #expect(dead.status == .unauthorized)
            #expect(dead.string("message") == "401 Unauthorized")
        }
    }

    @Test("another project's job is refused with GitLab's scope message until the target allowlists it", arguments: TestBackend.all)
    func crossProject(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let target = try await fixture.project("target")
            let source = try await fixture.project("source")
            let (jobID, zip) = try await fixture.successfulJob(target, files: Self.files)
            let job = try await fixture.runningJob(source)
            let refused = try await client.send(.get, "projects/\(target)/jobs/artifacts/main/download?job=test", .jobHeader(job.token))
            #expect(refused.status == .forbidden)
            #expect(refused.string("message") == "403 Forbidden - Authentication by CI/CD job token not allowed from root/source to root/target.")
            try await fixture.allow(source, into: target)
            #expect(try await client.send(.get, "projects/\(target)/jobs/artifacts/main/download?job=test", .jobHeader(job.token)).body == zip)
            #expect(try await client.send(.get, "projects/\(target)/jobs/\(jobID)/artifacts/report.json", .jobQuery(job.token)).status == .ok)
        }
    }

    @Test("a Guest is refused with 403, a stranger with 404, and a Reporter may download", arguments: TestBackend.all)
    func roles(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await fixture.project("app")
            _ = try await fixture.successfulJob(projectID, files: Self.files)
            let path = "projects/\(projectID)/jobs/artifacts/main/download?job=test"
            let (_, guest) = try await fixture.user("guest", level: Level.guest, on: projectID)
            let (_, stranger) = try await fixture.user("stranger", level: nil, on: projectID)
            let (_, reporter) = try await fixture.user("reporter", level: Level.reporter, on: projectID)
            #expect(try await client.send(.get, path, .pat(guest)).status == .forbidden)
            #expect(try await client.send(.get, path, .pat(stranger)).status == .notFound)
            #expect(try await client.send(.get, path, .pat(reporter)).status == .ok)
            #expect(try await client.send(.get, path, .none).status == .notFound)
        }
    }
}
