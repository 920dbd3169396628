/// How a runner isolates the jobs it runs.
public enum ExecutorKind: String, Codable, Sendable, CaseIterable {
    /// Every job process runs in a bubblewrap sandbox (own PID, mount, IPC and UTS namespaces), as a per-slot uid when the runner is root.
    case sandbox
    /// Job processes run directly on the runner host, seeing everything the runner's user sees. Only for hosts that run nothing else.
    case shellUnsafe = "shell-unsafe"
}
