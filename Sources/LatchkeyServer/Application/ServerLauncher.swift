import Foundation
import Hummingbird
import LatchkeyStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Why `latchkey serve` could not start, in one line naming what failed.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs `latchkey serve` from the first line to the exit code.
///
/// The port and the database are checked before anything is created, so a bad configuration fails in seconds with one line
/// and leaves nothing behind. On the first SIGTERM or SIGINT the embedded runners stop first (their jobs get
/// `shutdownTimeout` to finish or are aborted and failed) while the listener keeps serving them; then the listener, the
/// background services and the database stop. A second signal, a signal before the server is ready, or a drain that
/// outlives its bound (plus 15 s) exits at once.
public struct ServerLauncher: Sendable {
    public let settings: ServerSettings
    public let embeddedRunner: (@Sendable (_ url: String, _ token: String) -> any Service)?
    let logger: Logger

    public init(settings: ServerSettings, embeddedRunner: (@Sendable (_ url: String, _ token: String) -> any Service)? = nil) {
        self.settings = settings
        self.embeddedRunner = embeddedRunner
        var logger = Logger(label: "latchkey")
        logger.logLevel = settings.logLevel
        self.logger = logger
    }

    /// Serves until a signal; returns the exit status (0 after a complete drain).
    public func run() async throws -> Int32 {
        // Trapped before anything else, so a signal during the startup checks is ours to handle, not a silent kill mid-write.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let state = LaunchState()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await self.serve(state) }
            tasks.addTask { await self.watch(signals, state) }
            tasks.addTask { try await self.enforceDrainDeadline(state) }
            try await tasks.next()
            tasks.cancelAll()
        }
        return 0
    }

    /// Checks, builds and runs the service group.
    func serve(_ state: LaunchState) async throws {
        try await Self.checkPort(host: settings.host, port: settings.port)
        if let url = settings.databaseURL, !url.isEmpty {
            do {
                try await Database.checkPostgres(url: url, timeout: settings.startupTimeout, logger: logger)
            } catch let error as StoreError {
                throw StartupError(Self.line(error))
            }
        }
        let runners = embeddedRunner.flatMap { settings.embeddedRunners > 0 ? EmbeddedRunners(count: settings.embeddedRunners, factory: $0) : nil }
        let app = try await buildApplication(settings: settings, embeddedRunners: runners) { state.markReady() }
        // Services stop in reverse order: the runners drain first, while the application (listener included) still serves them.
        var services: [any Service] = [app]
        if let runners { services.append(runners) }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        state.setGroup(group)
        do {
            try await group.run()
        } catch let error as StoreError {
            throw StartupError(Self.line(error))
        }
        logger.info("Latchkey stopped")
    }

    /// First signal: drain (or stop now, when not ready yet). Second signal: stop now.
    func watch(_ signals: UnixSignalsSequence, _ state: LaunchState) async {
        var received = 0
        for await signal in signals {
            received += 1
            guard received == 1, let group = state.readyGroup else {
                stopNow(status: 128 + signal.rawValue, "\(signal) \(received == 1 ? "before the server was ready" : "again while draining"): stopping now")
            }
            logger.notice(
                "\(signal): draining; embedded runners get \(settings.shutdownTimeout) to finish or cancel their jobs (send it again to stop now)")
            state.startDraining()
            await group.triggerGracefulShutdown()
        }
    }

    /// Once draining starts, the whole shutdown may take the runners' bound and a margin for the listener and the database.
    func enforceDrainDeadline(_ state: LaunchState) async throws {
        for await _ in state.draining {
            try await Task.sleep(for: settings.shutdownTimeout + .seconds(15))
            stopNow(status: 1, "shutdown did not finish within \(settings.shutdownTimeout + .seconds(15)): stopping now")
        }
    }

    /// Exits the process at once.
    ///
    /// Not a cancellation: cancelling half-started or draining services can wait on code that ignores it, and "at once"
    /// must hold. Nothing is lost that was acknowledged: SQLite and PostgreSQL commit durably, files are renamed into place,
    /// sandboxed jobs die with the process (bubblewrap's --die-with-parent), and a job left running is failed by the
    /// reaper once its runner has been silent for the limit.
    private func stopNow(status: Int32, _ message: String) -> Never {
        logger.notice("\(message)")
        exit(status)
    }

    /// Fails at once, with one line, when `host:port` cannot be listened on (in use, not ours to bind).
    ///
    /// The port is bound and released again: Hummingbird binds for real only after migrations and bootstrap, and a port
    /// in use must not be discovered after root was created and "ready" was logged. Port 0 (any free port) is not checked.
    static func checkPort(host: String, port: Int) async throws {
        guard port != 0 else { return }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try await channel.close()
        } catch let error as IOError {
            throw StartupError("cannot listen on \(host):\(port): \(String(cString: strerror(error.errnoCode)).lowercased())")
        } catch {
            throw StartupError("cannot listen on \(host):\(port): \(error)")
        }
    }

    /// A database failure in words fit for a log line (a `PSQLError` describes itself only generically, on purpose).
    static func reason(_ error: any Error) -> String {
        if let store = error as? StoreError { return line(store) }
        return Database.describe(connectionError: error).text
    }

    static func line(_ error: StoreError) -> String {
        switch error {
        case .unavailable(let text), .invalidConfiguration(let text), .corrupt(let text), .duplicate(let text): text
        case .notFound: "the database is missing a row it needs"
        }
    }
}

/// What the signal watcher needs to know about startup: the group once the server is ready, and when draining began.
final class LaunchState: Sendable {
    private let state = Mutex<(group: ServiceGroup?, ready: Bool)>((nil, false))
    let draining: AsyncStream<Void>
    private let drainingContinuation: AsyncStream<Void>.Continuation

    init() { (draining, drainingContinuation) = AsyncStream.makeStream() }

    func setGroup(_ group: ServiceGroup) { state.withLock { $0.group = group } }
    func markReady() { state.withLock { $0.ready = true } }
    /// The service group, once bootstrap is done; nil before (nothing to drain yet).
    var readyGroup: ServiceGroup? { state.withLock { $0.ready ? $0.group : nil } }
    func startDraining() { drainingContinuation.yield() }
}
