import Synchronization

/// Shared between a running job's steps and its trace uploader: whether the job must stop, and whether it is over.
final class JobControl: Sendable {
    /// How a job is asked to stop.
    enum Stop: Int, Comparable, Sendable {
        /// `canceling`: stop the script, then run `after_script` and report.
        case graceful = 1
        /// `canceled`/`failed`/403/404 or runner shutdown: kill everything, report nothing more.
        case abort = 2

        static func < (lhs: Stop, rhs: Stop) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private struct State {
        var stop: Stop?
        var finished = false
    }

    private let state = Mutex(State())

    init() {}

    /// Requests a stop; a stronger request replaces a weaker one, never the reverse.
    func requestStop(_ stop: Stop) {
        state.withLock { state in
            if let current = state.stop, current >= stop { return }
            state.stop = stop
        }
    }

    var stopRequest: Stop? { state.withLock { $0.stop } }

    func markFinished() { state.withLock { $0.finished = true } }

    var isFinished: Bool { state.withLock { $0.finished } }
}
