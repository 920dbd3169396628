import Foundation
import Synchronization

/// The one thread that starts every child process, alive as long as the process.
///
/// Linux sends a child its parent-death signal (`PR_SET_PDEATHSIG`: bwrap's `--die-with-parent`, `setpriv --pdeathsig`)
/// when the *thread* that created it ends, not the process, and the threads of Swift's concurrency pool (libdispatch
/// workers) end after five idle seconds: a sandboxed job spawned from one would be killed at some quiet moment. Starting
/// children here ties them to a thread that ends only with the process.
final class SpawnThread: Sendable {
    static let shared = SpawnThread()

    private struct State: ~Copyable {
        var work: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in
            while true {
                wake.wait()
                let next = state.withLock { $0.work.isEmpty ? nil : $0.work.removeFirst() }
                next?()
            }
        }
        thread.name = "latchkey-spawn"
        thread.start()
    }

    /// Runs `body` on the spawn thread and waits for it (a `posix_spawn` takes microseconds, so the caller's wait is short).
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        if Thread.current.name == "latchkey-spawn" { return try body() }
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        state.withLock { $0.work.append({ result.withLock { $0 = Result { try body() } }; done.signal() }) }
        wake.signal()
        done.wait()
        return try result.withLock { $0! }.get()
    }
}
