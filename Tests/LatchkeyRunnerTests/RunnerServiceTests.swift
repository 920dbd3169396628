import Foundation
import LatchkeyCore
import Logging
import ServiceLifecycle
import Testing

@testable import LatchkeyRunner

@Suite("Runner service")
struct RunnerServiceTests {
    @Test("The service runs the jobs it is given, echoes last_update, and stops on graceful shutdown")
    func runsJobsAndShutsDown() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        await fixtures.api.enqueue(JobFixtures.job(id: 1, script: ["echo one"]))
        await fixtures.api.enqueue(JobFixtures.job(id: 2, script: ["echo two"]))
        var configuration = fixtures.configuration
        configuration.concurrent = 2
        var service = RunnerService(configuration: configuration, api: fixtures.api, settings: fixtures.settings, logger: Logger(label: "test"))
        service.minimumRequestInterval = .milliseconds(10)
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while await fixtures.api.finalUpdates.count < 2, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(await fixtures.api.finalUpdates.map(\.state) == ["success", "success"])
    }

    @Test("On shutdown a running job gets the grace period, then is aborted")
    func shutdownAbortsAfterGrace() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        await fixtures.api.enqueue(JobFixtures.job(id: 1, script: ["echo started", "sleep 30"]))
        var configuration = fixtures.configuration
        configuration.shutdownTimeout = 0
        let service = RunnerService(configuration: configuration, api: fixtures.api, settings: fixtures.settings, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "test")))
        let clock = ContinuousClock()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let deadline = clock.now + .seconds(10)
            while !(await fixtures.api.traceText).contains("started\n"), clock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let shutdown = clock.now
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            #expect(clock.now - shutdown < .seconds(5))
        }
        #expect(await fixtures.api.finalUpdates.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixtures.buildsDirectory.path).isEmpty)
    }
}
