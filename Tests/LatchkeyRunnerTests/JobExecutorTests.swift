import Foundation
import LatchkeyCore
import Testing

@testable import LatchkeyRunner

@Suite("Shell executor")
struct JobExecutorTests {
    @Test("A successful script reports success, exit code 0, its echoed commands and output, and a matching checksum")
    func successfulScript() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let outcome = await fixtures.executor().run(JobFixtures.job(script: ["echo hello from the job", "echo second line"]))
        #expect(outcome.state == .success)
        #expect(outcome.reported)
        let trace = await fixtures.api.traceText
        #expect(trace.contains("\u{1B}[32;1m$ echo hello from the job\u{1B}[0;m"))
        #expect(trace.contains("hello from the job\n"))
        #expect(trace.contains("second line\n"))
        #expect(trace.contains("Job succeeded"))
        let final = try #require(await fixtures.api.finalUpdates.last)
        #expect(final.state == "success")
        #expect(final.exitCode == 0)
        #expect(final.output?.checksum == CRC32.checksum(await fixtures.api.trace))
        #expect(final.output?.bytesize == (await fixtures.api.trace).count)
    }

    @Test("set -e stops the script at the first failing line and the job fails with script_failure and that exit code")
    func failingLineStopsScript() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let outcome = await fixtures.executor().run(JobFixtures.job(script: ["echo before", "sh -c 'exit 3'", "echo never-printed"]))
        #expect(outcome.state == .failed)
        #expect(outcome.failureReason == "script_failure")
        #expect(outcome.exitCode == 3)
        let trace = await fixtures.api.traceText
        #expect(trace.contains("before\n"))
        #expect(!trace.contains("never-printed\n"))
        #expect(trace.contains("ERROR: Job failed: exit code 3"))
        let final = try #require(await fixtures.api.finalUpdates.last)
        #expect(final.state == "failed")
        #expect(final.failureReason == "script_failure")
        #expect(final.exitCode == 3)
    }

    @Test("A failing pipeline fails the script when the shell has pipefail")
    func pipefail() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        // bash always has pipefail; the check keeps the test honest about what it proves.
        var configuration = fixtures.configuration
        configuration.shell = "bash"
        let outcome = await fixtures.executor(configuration: configuration).run(JobFixtures.job(script: ["false | cat", "echo not-reached"]))
        #expect(outcome.state == .failed)
        #expect(!(await fixtures.api.traceText).contains("not-reached\n"))
    }

    @Test("after_script runs in a fresh shell after the script failed, sees CI_JOB_STATUS=failed, and cannot change the result")
    func afterScriptAfterFailure() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let job = JobFixtures.job(script: ["export ONLY_IN_SCRIPT=yes", "false"], afterScript: ["echo after:$CI_JOB_STATUS:${ONLY_IN_SCRIPT:-unset}", "exit 7"])
        let outcome = await fixtures.executor().run(job)
        #expect(outcome.state == .failed)
        #expect(outcome.exitCode == 1)
        let trace = await fixtures.api.traceText
        #expect(trace.contains("after:failed:unset\n"))
        #expect(trace.contains("after_script failed, but job will continue unaffected: exit code 7"))
    }

    @Test("A job past its timeout has its whole process group killed, background children too, and fails with job_execution_timeout")
    func timeoutKillsProcessGroup() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let pidFile = fixtures.directory.appendingPathComponent("background.pid").path
        let job = JobFixtures.job(
            script: ["sleep 100 & echo $! > \(pidFile)", "echo started", "sleep 100"], afterScript: ["echo after-timeout"], timeout: 1)
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await fixtures.executor().run(job)
        #expect(clock.now - started < .seconds(10))
        #expect(outcome.state == .failed)
        #expect(outcome.failureReason == "job_execution_timeout")
        let trace = await fixtures.api.traceText
        #expect(trace.contains("started\n"))
        #expect(trace.contains("after-timeout\n"))
        #expect(trace.contains("execution took longer than 1s seconds"))
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Self.isGone(pid))
    }

    @Test("A script that ignores SIGTERM is killed with SIGKILL after the grace period")
    func sigkillAfterGrace() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let outcome = await fixtures.executor().run(JobFixtures.job(script: ["trap '' TERM", "while true; do sleep 0.05; done"], timeout: 1))
        #expect(outcome.failureReason == "job_execution_timeout")
    }

    @Test("The job sees its own variables and a minimal base, never the runner's environment")
    func environmentIsolation() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        setenv("LATCHKEY_SECRET", "runner-only-secret-value", 1)
        defer { unsetenv("LATCHKEY_SECRET") }
        var runnerEnvironment = ProcessInfo.processInfo.environment
        runnerEnvironment["LATCHKEY_SECRET"] = "runner-only-secret-value"
        runnerEnvironment["LATCHKEY_RUNNER_TOKEN"] = "glrt-should-never-leak"
        let job = JobFixtures.job(
            script: ["env | sort", "test -z \"${LATCHKEY_SECRET:-}\"", "test \"$MY_VARIABLE\" = 'a value with spaces'", "test -n \"$PATH\" && test -n \"$HOME\"",
                     "echo project=$CI_PROJECT_DIR"],
            variables: [JobVariable(key: "MY_VARIABLE", value: "a value with spaces", public: true)])
        let outcome = await fixtures.executor(runnerEnvironment: runnerEnvironment).run(job)
        #expect(outcome.state == .success)
        let trace = await fixtures.api.traceText
        #expect(trace.contains("MY_VARIABLE=a value with spaces"))
        #expect(trace.contains("CI_JOB_ID=42"))
        #expect(trace.contains("CI_PROJECT_PATH=group/project"))
        #expect(!trace.contains("LATCHKEY_SECRET="))
        #expect(!trace.contains("runner-only-secret-value"))
        #expect(!trace.contains("LATCHKEY_RUNNER_TOKEN"))
        #expect(trace.contains("project=\(fixtures.buildsDirectory.standardizedFileURL.path)/42-"))
    }

    @Test("A file variable is a 0600 file in the job's temporary directory and the variable holds its path")
    func fileVariables() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let job = JobFixtures.job(
            script: ["test \"$(cat \"$KUBECONFIG\")\" = 'apiVersion: v1'", "echo mode=$(stat -c %a \"$KUBECONFIG\")", "echo path=$KUBECONFIG"],
            variables: [JobVariable(key: "KUBECONFIG", value: "apiVersion: v1", public: false, file: true)])
        let outcome = await fixtures.executor().run(job)
        #expect(outcome.state == .success)
        let trace = await fixtures.api.traceText
        #expect(trace.contains("mode=600\n"))
        #expect(trace.contains(".tmp/KUBECONFIG\n"))
    }

    @Test("The workspace, its temporary directory and the runner's files are removed after success and after failure")
    func workspaceRemoved() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        for script in [["echo ok > file.txt"], ["mkdir -p ro/sub && chmod 500 ro ro/sub", "exit 1"]] {
            let outcome = await fixtures.executor().run(JobFixtures.job(script: script, variables: [JobVariable(key: "F", value: "x", public: false, file: true)]))
            #expect(outcome.reported)
            let left = try FileManager.default.contentsOfDirectory(atPath: fixtures.buildsDirectory.path)
            #expect(left.isEmpty, "left behind: \(left)")
        }
    }

    @Test("Job-Status canceling stops the script with SIGTERM, runs after_script and reports the job as failed")
    func gracefulCancel() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        await fixtures.api.setJobStatus("canceling", onceTraceContains: "working\n")
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await fixtures.executor().run(
            JobFixtures.job(script: ["echo working", "sleep 30", "echo not-reached"], afterScript: ["echo cleanup:$CI_JOB_STATUS"]))
        #expect(clock.now - started < .seconds(10))
        #expect(outcome.state == .failed)
        #expect(outcome.reported)
        let trace = await fixtures.api.traceText
        #expect(trace.contains("cleanup:canceled\n"))
        #expect(!trace.contains("not-reached\n"))
    }

    @Test("A 403 on a trace patch aborts the job at once: process killed, no after_script, no final update")
    func hardAbortOnForbidden() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        await fixtures.api.setPatchStatus(403, onceTraceContains: "working\n")
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await fixtures.executor().run(
            JobFixtures.job(script: ["echo working", "while true; do echo tick; sleep 0.1; done"], afterScript: ["echo after-ran"]))
        #expect(clock.now - started < .seconds(10))
        #expect(outcome.state == .aborted)
        #expect(await fixtures.api.finalUpdates.isEmpty)
        #expect(!(await fixtures.api.patches).contains { $0.bytes.text.contains("after-ran") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixtures.buildsDirectory.path).isEmpty)
    }

    @Test("Job-Status canceled on a patch aborts the job like a 403")
    func hardAbortOnCanceled() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        await fixtures.api.setJobStatus("canceled", onceTraceContains: "working\n")
        let outcome = await fixtures.executor().run(JobFixtures.job(script: ["echo working", "sleep 30"], afterScript: ["echo after-ran"]))
        #expect(outcome.state == .aborted)
        #expect(await fixtures.api.finalUpdates.isEmpty)
    }

    @Test("A quiet job sends keep-alive updates with state running")
    func keepAlive() async throws {
        var fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        fixtures.settings.keepAliveInterval = .milliseconds(100)
        fixtures.settings.traceCheckInterval = .milliseconds(20)
        // Long enough that a loaded machine still sees several quiet intervals.
        let outcome = await fixtures.executor().run(JobFixtures.job(script: ["sleep 3"]))
        #expect(outcome.state == .success)
        let keepAlives = await fixtures.api.updates.filter { $0.state == "running" }
        #expect(keepAlives.count >= 1)
        #expect(keepAlives.allSatisfy { $0.token.hasPrefix("glcbt-") })
    }

    @Test("A 412 on the final update makes the runner resend the whole trace from offset 0 and report again")
    func checksumMismatchResends() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        await fixtures.api.setCorruptOnFirstFinalUpdate()
        let outcome = await fixtures.executor().run(JobFixtures.job(script: ["echo some output"]))
        #expect(outcome.reported)
        let finals = await fixtures.api.finalUpdates
        #expect(finals.count == 2)
        let patches = await fixtures.api.patches
        #expect(patches.filter { $0.offset == 0 }.count >= 2)
        #expect(finals.last?.output?.checksum == CRC32.checksum(await fixtures.api.trace))
    }

    @Test(
        "With a job user, the job runs unprivileged in a workspace it owns", .enabled(if: geteuid() == 0 && (try? JobUser.lookup("nobody")) != nil))
    func jobUser() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        var configuration = fixtures.configuration
        configuration.jobUser = "nobody"
        let user = try JobUser.lookup("nobody")
        let job = JobFixtures.job(
            script: ["echo uid=$(id -u)", "echo data > file.txt", "cat \"$SETTINGS\"; echo", "test ! -r /root/.bashrc || ! cat /root/.bashrc > /dev/null 2>&1"],
            variables: [JobVariable(key: "SETTINGS", value: "from-a-file", public: false, file: true)])
        let outcome = await fixtures.executor(configuration: configuration).run(job)
        #expect(outcome.state == .success)
        let trace = await fixtures.api.traceText
        #expect(trace.contains("uid=\(user.uid)\n"))
        #expect(trace.contains("from-a-file\n"))
    }

    /// Gone, or a zombie waiting for a parent that is not us.
    static func isGone(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        guard let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state == "Z" || state == "X"
    }
}
