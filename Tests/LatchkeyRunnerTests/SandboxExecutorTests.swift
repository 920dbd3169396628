import Foundation
import Testing

@testable import LatchkeyRunner

/// The sandbox executor in process: what a job can see, signal and outlive (the hostile end-to-end suite drives the real binaries).
@Suite("Sandbox executor", .enabled(if: BubblewrapAvailability.installed, "bwrap is not installed (apt-get install bubblewrap)"))
struct SandboxExecutorTests {
    func sandbox(hiding paths: [String] = []) throws -> JobSandbox {
        try JobSandbox.locate(hiddenPaths: paths)
    }

    @Test("A sandboxed job sees its own workspace, not its runner's files, and runs as a uid of the range when the runner is root")
    func seesOnlyItsWorkspace() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let secret = fixtures.directory.appendingPathComponent("runner-secret")
        try Data("runner-only".utf8).write(to: secret)
        let outcome = await fixtures.executor(sandbox: try sandbox()).run(
            JobFixtures.job(script: [
                "echo uid=$(id -u)", "echo inside > mine.txt && cat mine.txt", "cat \(secret.path) || echo secret-hidden",
                "ls /root >/dev/null 2>&1 || echo root-hidden", "echo procs=$(ls -d /proc/[0-9]* | wc -l)", "touch /usr/x 2>/dev/null || echo usr-ro",
            ]))
        let trace = await fixtures.api.traceText
        #expect(outcome.state == .success, "\(trace)")
        #expect(trace.contains("inside\n"))
        #expect(trace.contains("secret-hidden\n") && !trace.contains("runner-only"))
        #expect(trace.contains("root-hidden\n"))
        #expect(trace.contains("usr-ro\n"))
        let procs = trace.split(separator: "\n").first { $0.hasPrefix("procs=") }.flatMap { Int($0.dropFirst(6)) }
        #expect(procs.map { $0 < 10 } == true, "\(trace)")
        if geteuid() == 0 {
            let uid = trace.split(separator: "\n").first { $0.hasPrefix("uid=") }.flatMap { UInt32($0.dropFirst(4)) }
            #expect(uid.map { (JobUIDRange.default.lower...JobUIDRange.default.upper).contains($0) } == true, "\(trace)")
        }
    }

    @Test("A hidden path under a directory the sandbox shows stays invisible")
    func hiddenPaths() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        // /etc/hosts is one of the files shown; hiding it replaces it with an empty file.
        let outcome = await fixtures.executor(sandbox: try sandbox(hiding: ["/etc/hosts"])).run(
            JobFixtures.job(script: ["echo hosts-bytes=$(wc -c < /etc/hosts)"]))
        let trace = await fixtures.api.traceText
        #expect(outcome.state == .success, "\(trace)")
        #expect(trace.contains("hosts-bytes=0\n"), "\(trace)")
    }

    @Test("A setsid daemon and background processes die with the job")
    func nothingOutlivesTheJob() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let marker = "lkdaemon" + String(UUID().uuidString.prefix(8)).lowercased()
        let outcome = await fixtures.executor(sandbox: try sandbox()).run(
            JobFixtures.job(script: ["setsid sh -c 'while true; do sleep 1; done' \(marker) </dev/null >/dev/null 2>&1 &", "nohup sleep 300 >/dev/null 2>&1 &", "echo started"]))
        #expect(outcome.state == .success)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while clock.now < deadline && !Self.processes(containing: marker).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        #expect(Self.processes(containing: marker).isEmpty, "the daemon outlived its job")
    }

    @Test("Job-Status canceling reaches the sandboxed script as SIGTERM: its trap runs, then after_script")
    func gracefulCancel() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        await fixtures.api.setJobStatus("canceling", onceTraceContains: "working\n")
        let outcome = await fixtures.executor(sandbox: try sandbox()).run(
            JobFixtures.job(
                script: ["trap 'echo got-term; exit 7' TERM", "echo working", "sleep 30 & wait", "echo not-reached"], afterScript: ["echo cleanup:$CI_JOB_STATUS"]))
        let trace = await fixtures.api.traceText
        #expect(outcome.state == .failed)
        #expect(trace.contains("got-term\n"), "\(trace)")
        #expect(trace.contains("cleanup:canceled\n"))
        #expect(!trace.contains("not-reached\n"))
    }

    @Test("A sandboxed job past its timeout is killed, whatever it ignores")
    func timeout() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await fixtures.executor(sandbox: try sandbox()).run(JobFixtures.job(script: ["trap '' TERM", "while true; do sleep 0.05; done"], timeout: 1))
        #expect(outcome.failureReason == "job_execution_timeout")
        #expect(clock.now - started < .seconds(15))
    }

    @Test("Without bwrap the sandbox refuses to start and says what to install and why")
    func missingBubblewrap() throws {
        #expect {
            try JobSandbox.locate(hiddenPaths: [], searchPath: "/nonexistent")
        } throws: { error in
            let text = "\(error)"
            return text.contains("apt-get install bubblewrap") && text.contains("shell-unsafe") && text.contains("same machine")
        }
    }

    @Test("Job uid ranges parse LOW-HIGH within the unprivileged ids and refuse anything else")
    func uidRanges() throws {
        #expect(try JobUIDRange(parsing: "20000-20999") == JobUIDRange.default)
        #expect(try JobUIDRange(parsing: "30000-30000").count == 1)
        for bad in ["", "20000", "0-10", "999-2000", "2000-1000", "20000-70000", "a-b", "20000-20999-3", "-1-5"] {
            #expect(throws: RunnerError.self, "\(bad)") { try JobUIDRange(parsing: bad) }
        }
    }

    @Test("Concurrent jobs of one root runner hold different uids, and a uid is free again once its job ends")
    func slots() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slots-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let range = try JobUIDRange(parsing: "40000-40002")
        var held = try (0..<3).map { _ in try #require(try JobSlot.acquire(in: range, lockDirectory: directory)) }
        #expect(Set(held.map(\.uid)).count == 3)
        #expect(try JobSlot.acquire(in: range, lockDirectory: directory) == nil, "all three uids are taken")
        let freed = held.removeLast().uid
        #expect(try JobSlot.acquire(in: range, lockDirectory: directory)?.uid == freed)
    }

    static func processes(containing text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            return data.range(of: Data(text.utf8)) != nil ? pid : nil
        }
    }
}

enum BubblewrapAvailability {
    static let installed = (try? JobSandbox.locate(hiddenPaths: [])) != nil
}
