import Foundation
import LatchkeyStore
import ServiceLifecycle

/// Queues delayed jobs (`when: delayed`) once their `start_in` has passed; safe with several server instances.
struct DelayedJobStarter: Service {
    let environment: ServerEnvironment
    let queue: JobQueue

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: environment.settings.delayedJobInterval)
                await startDue(now: Date())
            }
        }
    }

    /// Queues every scheduled job due at `now` and wakes the runners waiting for work.
    func startDue(now: Date) async {
        do {
            let pipelines = try await environment.store.jobs.enqueueDue(now: now)
            if !pipelines.isEmpty { await queue.notify() }
        } catch {
            environment.logger.error("delayed jobs could not be started", metadata: ["error.type": "\(type(of: error))"])
        }
    }
}

extension DelayedJobStarter: CustomStringConvertible {
    public var description: String { "DelayedJobStarter" }
}
