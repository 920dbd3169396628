import ArgumentParser
import Foundation
import LatchkeyRunner

/// How a runner isolates jobs: the options `serve` (for its embedded runners) and `runner run` share.
struct RunnerExecutorOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "How jobs are isolated: sandbox (bubblewrap, the default) or shell-unsafe (no isolation: a job can read and signal everything the runner's user can; only for hosts that run nothing else) (LATCHKEY_RUNNER_EXECUTOR).",
            valueName: "sandbox|shell-unsafe"))
    var executor: String?
    @Option(help: ArgumentHelp("When the runner is root: the host uids its concurrent jobs run as, one each (LATCHKEY_JOB_UID_RANGE; default 20000-20999).", valueName: "low-high"))
    var jobUIDRange: String?
    @Option(help: "Where job workspaces are made (LATCHKEY_BUILDS_DIR; default a directory of this runner's own under the system's temporary directory).")
    var buildsDir: String?

    func resolvedExecutor() throws -> ExecutorKind? {
        guard let text = executor ?? ProcessInfo.processInfo.environment["LATCHKEY_RUNNER_EXECUTOR"] else { return nil }
        guard let kind = ExecutorKind(rawValue: text.lowercased()) else {
            throw ValidationError("--executor must be sandbox or shell-unsafe, not \(text)")
        }
        return kind
    }

    func resolvedJobUIDRange() throws -> JobUIDRange? {
        guard let text = jobUIDRange ?? ProcessInfo.processInfo.environment["LATCHKEY_JOB_UID_RANGE"] else { return nil }
        do { return try JobUIDRange(parsing: text) } catch { throw ValidationError("--job-uid-range: \(error)") }
    }

    var resolvedBuildsDirectory: String? {
        (buildsDir ?? ProcessInfo.processInfo.environment["LATCHKEY_BUILDS_DIR"]).map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }
}
