/// Intervals and limits of job execution; the defaults follow GitLab Runner, tests shorten them.
struct ExecutorSettings: Sendable {
    /// How often a running process's output and state are polled.
    var processPollInterval: Duration = .milliseconds(20)
    /// How often the trace uploader wakes up.
    var traceCheckInterval: Duration = .milliseconds(100)
    /// Pending trace is sent at least this often.
    var traceSendInterval: Duration = .seconds(1)
    /// Pending trace is sent at once when this much has accumulated.
    var traceSendThreshold = 64 << 10
    /// The largest trace PATCH body.
    var maxPatchSize = 1 << 20
    /// Trace beyond this is dropped (after a notice), as GitLab's `output_limit` (4 MiB).
    var traceLimit = 4 << 20
    /// With no trace sent for this long, a keep-alive `PUT state=running` is sent.
    var keepAliveInterval: Duration = .seconds(30)
    /// Between SIGTERM and SIGKILL of a job's process group.
    var killGracePeriod: Duration = .seconds(5)
    /// How long output is still read after a process exits (background processes may hold the pipe).
    var outputDrainTimeout: Duration = .seconds(2)
    /// `after_script`'s own timeout (GitLab: 5 minutes).
    var afterScriptTimeout: Duration = .seconds(300)
    /// Between retries of the final `PUT`.
    var finalUpdateRetryDelay: Duration = .seconds(1)
    /// Attempts of the final `PUT` before giving up.
    var finalUpdateAttempts = 30
}
