import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// `latchkey serve` starting and stopping as an operator meets it: each test starts its own server process.
@Suite("Serve: startup and shutdown", .serialized)
struct ServeLifecycleTests {
    /// One `latchkey serve` process of this test, its output in a file; killed when the test is done with it.
    final class Server: Sendable {
        let process: Subprocess
        let directory: URL
        let log: URL
        let port: Int
        let rootToken = SecretToken.mint(.personalAccess).value
        var url: String { "http://127.0.0.1:\(port)" }
        var root: [String: String] { ["PRIVATE-TOKEN": rootToken] }
        var output: String { String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self) }

        init(_ arguments: [String], port: Int? = nil, directory: URL? = nil) throws {
            self.port = try port ?? RegistryFixture.freePort()
            self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-serve-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
            log = self.directory.appendingPathComponent("server-\(UUID().uuidString).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            var environment = ProcessInfo.processInfo.environment
            environment["LATCHKEY_ROOT_TOKEN"] = rootToken
            environment["LATCHKEY_PARENT_PID"] = String(getpid())
            process = try Subprocess.launch(
                [
                    LiveServer.packageRoot.appendingPathComponent(".build/debug/latchkey").path, "serve", "--port", String(self.port), "--data-dir",
                    self.directory.appendingPathComponent("data").path, "--log-level", "info",
                ] + arguments, environment: environment, output: .appending(log.path), error: .output)
        }

        var dataDirectory: URL { directory.appendingPathComponent("data") }

        func ready() async throws {
            _ = try await eventually("the server on \(url) to be ready", timeout: .seconds(120)) { () -> Bool? in
                guard self.process.isRunning else { throw LiveServerError.exited(self.output) }
                guard let response = try? await HTTP.request("GET", self.url + "/-/readiness") else { return nil }
                return response.status == 200 ? true : nil
            }
        }

        func signal(_ signal: Int32) { process.signal(signal) }

        /// The exit status, or nil if the process still runs after `timeout`.
        func exitStatus(within timeout: Duration) async throws -> Int32? {
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            while process.isRunning, clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            return process.isRunning ? nil : process.waitForExit()
        }

        /// Creates a project as root and pushes `.gitlab-ci.yml` with real git; returns the project id.
        func project(_ name: String, ci: String) async throws -> Int {
            let created = try await HTTP.request("POST", "\(url)/api/v4/projects", headers: root, json: ["name": name])
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.object["id"] as? Int)
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: work) }
            try GitFixtures.git(["init", "-q", "-b", "main", work.path])
            try Data(ci.utf8).write(to: work.appendingPathComponent(".gitlab-ci.yml"))
            try GitFixtures.git(["add", "."], in: work)
            try GitFixtures.git(["commit", "-qm", "ci"], in: work)
            try GitFixtures.git(["push", "-q", url.replacingOccurrences(of: "://", with: "://root:\(rootToken)@") + "/root/\(name).git", "main"], in: work)
            return id
        }

        /// The project's first job once it runs on the embedded runner.
        func runningJob(_ projectID: Int) async throws -> Int {
            try await eventually("a job of project \(projectID) to run") { () -> Int? in
                let jobs = try await HTTP.request("GET", "\(self.url)/api/v4/projects/\(projectID)/jobs", headers: self.root).array
                guard let job = jobs.first, job["status"] as? String == "running", let id = job["id"] as? Int else { return nil }
                // Running in the database is not yet running on the runner (the claim's answer may still be on its way): the
                // runner's first trace lines say it has the job.
                let trace = try await HTTP.request("GET", "\(self.url)/api/v4/projects/\(projectID)/jobs/\(id)/trace", headers: self.root).text
                return trace.isEmpty ? nil : id
            }
        }

        func stop() {
            if process.isRunning {
                // The whole group: git children must not outlive the test's server.
                process.signal(SIGKILL, group: true)
                process.waitForExit()
            }
        }

        deinit {
            stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test("SIGTERM with a busy embedded runner: the job finishes and reports while the listener serves it, then the server exits 0")
    func drainsABusyRunner() async throws {
        let server = try Server(["--runners", "1"])
        defer { server.stop() }
        try await server.ready()
        // Long enough that the signal lands while it runs even when a loaded machine reports the job running late.
        let project = try await server.project("drain", ci: "job:\n  script:\n    - sleep 10\n    - echo finished-after-sigterm\n")
        let job = try await server.runningJob(project)
        let signalled = ContinuousClock.now
        server.signal(SIGTERM)
        // Draining: the server still answers (the runner's routes and the rest) while the job goes on.
        try await Task.sleep(for: .milliseconds(500))
        #expect(server.process.isRunning, "\(server.output)")
        #expect(try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(project)/jobs/\(job)", headers: server.root).status == 200)
        let status = try await server.exitStatus(within: .seconds(40))
        #expect(status == 0, "\(server.output)")
        #expect(ContinuousClock.now - signalled < .seconds(30))
        // The job's end reached the server before it stopped: a second start on the same data shows it finished.
        let again = try Server(["--runners", "0"], port: server.port, directory: server.directory)
        defer { again.stop() }
        try await again.ready()
        let finished = try await HTTP.request("GET", "\(again.url)/api/v4/projects/\(project)/jobs/\(job)", headers: server.root).object
        #expect(finished["status"] as? String == "success", "\(finished) \(server.output)")
        let trace = try await HTTP.request("GET", "\(again.url)/api/v4/projects/\(project)/jobs/\(job)/trace", headers: server.root).text
        #expect(trace.contains("finished-after-sigterm"))
    }

    @Test("a job longer than --shutdown-timeout is aborted and reported failed; the server exits soon after the bound")
    func abortsAtTheBound() async throws {
        let server = try Server(["--runners", "1", "--shutdown-timeout", "2"])
        defer { server.stop() }
        try await server.ready()
        let project = try await server.project("bound", ci: "job:\n  script:\n    - sleep 300\n")
        let job = try await server.runningJob(project)
        let signalled = ContinuousClock.now
        server.signal(SIGTERM)
        let status = try await server.exitStatus(within: .seconds(20))
        #expect(status == 0, "\(server.output)")
        #expect(ContinuousClock.now - signalled < .seconds(12), "\(server.output)")
        let again = try Server(["--runners", "0"], port: server.port, directory: server.directory)
        defer { again.stop() }
        try await again.ready()
        let ended = try await HTTP.request("GET", "\(again.url)/api/v4/projects/\(project)/jobs/\(job)", headers: server.root).object
        #expect(["failed", "canceled"].contains(ended["status"] as? String ?? ""), "\(ended) \(server.output)")
    }

    @Test("a second SIGTERM while draining exits at once, killing the running job")
    func secondSignalStopsAtOnce() async throws {
        let server = try Server(["--runners", "1", "--shutdown-timeout", "120"])
        defer { server.stop() }
        try await server.ready()
        let project = try await server.project("twice", ci: "job:\n  script:\n    - sleep 300\n")
        _ = try await server.runningJob(project)
        server.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(500))
        #expect(server.process.isRunning)
        let second = ContinuousClock.now
        server.signal(SIGINT)
        let status = try await server.exitStatus(within: .seconds(8))
        #expect(status != nil && status != 0, "\(server.output)")
        #expect(ContinuousClock.now - second < .seconds(10), "\(server.output)")
        #expect(server.output.contains("again while draining: stopping now"), "\(server.output)")
    }

    @Test("a port in use fails at once with one line, before the data directory is bootstrapped or ready is logged")
    func portInUse() async throws {
        let port = try RegistryFixture.freePort()
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let listening = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        #expect(listening && listen(socket, 1) == 0)
        let started = ContinuousClock.now
        let server = try Server(["--runners", "1", "--host", "127.0.0.1"], port: port)
        defer { server.stop() }
        let status = try await server.exitStatus(within: .seconds(30))
        #expect(status != nil && status != 0)
        // Bounds here only tell "at once" from "after a timeout or never", with room for a loaded CI machine.
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(server.output.contains("cannot listen on 127.0.0.1:\(port): address already in use"), "\(server.output)")
        #expect(!server.output.contains("Latchkey is ready"))
        #expect(!FileManager.default.fileExists(atPath: server.dataDirectory.appendingPathComponent("latchkey.sqlite3").path))
    }

    @Test("an unreachable --database-url fails within seconds with one line naming the server, never the password")
    func unreachableDatabase() async throws {
        let closed = try RegistryFixture.freePort()
        let started = ContinuousClock.now
        let server = try Server(["--runners", "0", "--database-url", "postgres://latchkey:hunter2-secret@127.0.0.1:\(closed)/latchkey"])
        defer { server.stop() }
        let status = try await server.exitStatus(within: .seconds(30))
        #expect(status != nil && status != 0)
        #expect(ContinuousClock.now - started < .seconds(20))
        let lines = server.output.split(separator: "\n").filter { $0.contains("Error:") }
        #expect(lines.count == 1, "\(server.output)")
        #expect(server.output.contains("cannot connect to postgres://latchkey@127.0.0.1:\(closed)/latchkey: connection refused"), "\(server.output)")
        #expect(!server.output.contains("hunter2-secret"))
        #expect(!server.output.contains("PSQLError"))
    }

    @Test("a wrong PostgreSQL password fails at once with the server's reason (when LATCHKEY_TEST_POSTGRES_URL names a server)")
    func wrongPassword() async throws {
        guard let admin = ProcessInfo.processInfo.environment["LATCHKEY_TEST_POSTGRES_URL"], var url = URLComponents(string: admin) else { return }
        url.password = "certainly-not-the-password"
        let started = ContinuousClock.now
        let server = try Server(["--runners", "0", "--database-url", url.string!])
        defer { server.stop() }
        let status = try await server.exitStatus(within: .seconds(30))
        #expect(status != nil && status != 0)
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(!server.output.contains("retrying"), "a refused password is not retried: \(server.output)")
        #expect(server.output.contains("password authentication failed"), "\(server.output)")
        #expect(!server.output.contains("certainly-not-the-password"))
    }

    @Test("SIGTERM while startup still retries the database exits at once")
    func signalDuringStartup() async throws {
        let closed = try RegistryFixture.freePort()
        let server = try Server(["--runners", "0", "--database-url", "postgres://latchkey:pw@127.0.0.1:\(closed)/latchkey"])
        defer { server.stop() }
        _ = try await eventually("the server to retry its database") { server.output.contains("database not reachable yet") ? true : nil }
        let signalled = ContinuousClock.now
        server.signal(SIGTERM)
        let status = try await server.exitStatus(within: .seconds(20))
        #expect(status != nil && status != 0, "\(server.output)")
        #expect(ContinuousClock.now - signalled < .seconds(8))
    }
}
