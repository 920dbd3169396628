import Foundation
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// `latchkey admin backup` against the live server under load, then `admin restore` into a fresh data directory and a
/// second server on it: every write acknowledged before the backup began is there, and the tokens, traces, artifacts and
/// repositories still work.
@Suite("Backup and restore, end to end", .serialized)
struct BackupTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    @Test("a backup taken while the server takes writes restores into an instance where everything acknowledged before it works")
    func backupUnderLoad() async throws {
        let marker = "backup-marker-" + String(UUID().uuidString.prefix(8)).lowercased()
        // A project with a finished job: its trace, its artifact and its repository must survive.
        let name = "backed-up-\(marker)"
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": name])
        let projectID = try #require(created.object["id"] as? Int)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-backup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        let ci = "build:\n  script:\n    - echo \(marker)\n    - echo \(marker)-artifact > out.txt\n  artifacts:\n    paths: [out.txt]\n"
        try Data(ci.utf8).write(to: work.appendingPathComponent(".gitlab-ci.yml"))
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        try GitFixtures.git(["push", "-q", server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/\(name).git", "main"], in: work)
        let jobID = try await eventually("the job to succeed") { () -> Int? in
            let jobs = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs", headers: root).array
            guard let job = jobs.first, job["status"] as? String == "success" else { return nil }
            return job["id"] as? Int
        }

        // Writes acknowledged before the backup starts, and more during it.
        var acknowledged: [Int] = []
        for index in 0..<5 {
            let response = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": "\(marker)-before-\(index)"])
            #expect(response.status == 201)
            acknowledged.append(try #require(response.object["id"] as? Int))
        }
        let url = server.url, headers = root
        let load = Task {
            var index = 0
            while !Task.isCancelled {
                _ = try? await HTTP.request("POST", "\(url)/api/v4/projects", headers: headers, json: ["name": "\(marker)-during-\(index)"])
                index += 1
            }
        }
        let backup = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-backup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: backup) }
        let made = try CommandLineTests.run(["admin", "backup", backup.path, "--data-dir", server.dataDirectory.path])
        load.cancel()
        #expect(made.status == 0, "\(made.output)")
        #expect(made.output.contains("latchkey.sqlite3") && made.output.contains("traces") && made.output.contains("artifacts"), "\(made.output)")

        // Restored into a new data directory, served by a second server.
        let restored = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-restored-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: restored) }
        let restore = try CommandLineTests.run(["admin", "restore", backup.path, "--data-dir", restored.path])
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try CommandLineTests.run(["admin", "restore", backup.path, "--data-dir", restored.path]).output.contains("is not empty"))
        let port = try RegistryFixture.freePort()
        var environment = ProcessInfo.processInfo.environment
        environment["LATCHKEY_PARENT_PID"] = String(getpid())
        let second = try Subprocess.launch(
            [CommandLineTests.binary, "serve", "--port", String(port), "--data-dir", restored.path, "--runners", "0"], environment: environment,
            output: .null, error: .null)
        // Not waited for here (the Subprocess reaps it on a thread of its own when it goes): the server exits on SIGTERM, and
        // with this process (LATCHKEY_PARENT_PID) at the latest.
        defer { second.signal(SIGTERM) }
        let copy = "http://127.0.0.1:\(port)"
        _ = try await eventually("the restored server to be ready", timeout: .seconds(60)) { () -> Bool? in
            (try? await HTTP.request("GET", "\(copy)/-/readiness"))?.status == 200 ? true : nil
        }
        // Root's token (only its digest was backed up, with the secret that keys it) still works.
        for id in acknowledged + [projectID] {
            let project = try await HTTP.request("GET", "\(copy)/api/v4/projects/\(id)", headers: root)
            #expect(project.status == 200, "project \(id): \(project.text)")
        }
        let trace = try await HTTP.request("GET", "\(copy)/api/v4/projects/\(projectID)/jobs/\(jobID)/trace", headers: root)
        #expect(trace.text.contains(marker), "\(trace.text)")
        let artifact = try await HTTP.request("GET", "\(copy)/api/v4/projects/\(projectID)/jobs/\(jobID)/artifacts/out.txt", headers: root)
        #expect(artifact.status == 200 && artifact.text == "\(marker)-artifact\n", "\(artifact.status) \(artifact.text)")
        let clone = work.appendingPathComponent("clone")
        try GitFixtures.git(["clone", "-q", copy.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/\(name).git", clone.path])
        #expect(FileManager.default.fileExists(atPath: clone.appendingPathComponent(".gitlab-ci.yml").path))
    }
}
