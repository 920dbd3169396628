import Foundation

/// What bwrap reports on its `--info-fd` once the sandbox is set up: the host pid of the sandbox's init and its PID namespace.
struct SandboxInfo: Sendable, Equatable {
    var childPID: pid_t
    var pidNamespace: UInt64

    /// Parses bwrap's JSON (`{"child-pid": 10660, "pid-namespace": 4026532179, …}`); nil when it is incomplete.
    static func parse(_ bytes: [UInt8]) -> SandboxInfo? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let child = (object["child-pid"] as? NSNumber)?.int64Value, child > 0, child <= Int64(Int32.max),
            let namespace = (object["pid-namespace"] as? NSNumber)?.uint64Value
        else { return nil }
        return SandboxInfo(childPID: pid_t(child), pidNamespace: namespace)
    }

    /// Sends `signal` to every process of the sandbox but its init (which only reaps): the job's shell and everything it started,
    /// `setsid` daemons included, since they cannot leave the PID namespace.
    func signalMembers(_ signal: Int32) {
        let wanted = "pid:[\(pidNamespace)]"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        for entry in entries {
            guard let pid = pid_t(entry), pid != childPID else { continue }
            guard let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/ns/pid"), namespace == wanted else { continue }
            _ = kill(pid, signal)
        }
    }
}
