import Foundation
import LatchkeyCore
import LatchkeyStore
import Logging
import ServiceLifecycle

/// Creates the pipelines of due schedules, as each schedule's owner; safe with several server instances.
struct ScheduleRunner: Service {
    let environment: ServerEnvironment
    let creator: PipelineCreator
    let interval: Duration

    func run() async throws {
        // Sleep first: migrations run as the server starts, alongside this service. A graceful shutdown ends the loop.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await runDue(now: Date())
            }
        }
    }

    /// Runs every schedule due at `now` once.
    func runDue(now: Date) async {
        do {
            for schedule in try await environment.store.schedules.due(now: now) {
                guard let due = schedule.nextRunAt else { continue }
                let zone = CronTimeZone.resolve(schedule.cronTimezone) ?? TimeZone(identifier: "UTC")!
                let next = (try? CronExpression(schedule.cron))?.nextDate(after: max(now, due), in: zone)
                guard try await environment.store.schedules.claimRun(id: schedule.id, expected: due, next: next) else { continue }
                await run(schedule)
            }
        } catch {
            environment.logger.error("pipeline schedules could not be read", metadata: ["error.type": "\(type(of: error))"])
        }
    }

    private func run(_ schedule: PipelineSchedule) async {
        do {
            guard let project = try await environment.store.projects.find(id: schedule.projectID),
                let owner = try await environment.store.users.find(id: schedule.ownerID)
            else { return }
            // The cron run is the one that runs as the owner, with the owner's rights as of now (a protected ref included).
            guard try await environment.authorizer.mayRunAsOwner(schedule, owner: owner, project: project).isAllowed else {
                environment.logger.warning("schedule owner may no longer create pipelines", metadata: ["schedule": "\(schedule.id)", "project": "\(project.fullPath)"])
                return
            }
            _ = try await creator.create(project: project, ref: schedule.ref, source: .schedule, user: owner, variables: schedule.variables, scheduleID: schedule.id)
        } catch {
            environment.logger.warning("scheduled pipeline not created", metadata: ["schedule": "\(schedule.id)", "error.type": "\(type(of: error))"])
        }
    }
}

extension ScheduleRunner: CustomStringConvertible {
    public var description: String { "ScheduleRunner" }
}
