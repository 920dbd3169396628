import Synchronization

/// The jobs a runner service is running, so a shutdown that runs out of patience can abort them.
final class RunningJobs: Sendable {
    private let jobs = Mutex<[Int64: JobControl]>([:])

    func insert(_ id: Int64, _ control: JobControl) { jobs.withLock { $0[id] = control } }
    func remove(_ id: Int64) { _ = jobs.withLock { $0.removeValue(forKey: id) } }
    var count: Int { jobs.withLock { $0.count } }

    func abortAll() {
        for control in jobs.withLock({ Array($0.values) }) { control.requestStop(.abort) }
    }
}
