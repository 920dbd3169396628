import Foundation

/// SIGPIPE's default action ends the whole process: a `git` child that exits while the server still streams a request body into
/// its stdin (a client can arrange that) would take the server with it. Ignored, a write to a closed pipe fails with EPIPE instead,
/// which the writer handles as the child having gone.
public enum BrokenPipes {
    /// Makes writes to closed pipes and sockets errors, not process deaths (process-wide; idempotent).
    public static func ignore() { signal(SIGPIPE, SIG_IGN) }
}
