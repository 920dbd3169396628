import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// One real `latchkey serve` process (SQLite, one embedded runner) shared by every end-to-end test, started on first use.
actor LiveServer {
    static let shared = LiveServer()

    struct Handle: Sendable {
        let url: String
        let rootToken: String
        let dataDirectory: URL
        let logFile: URL
        /// Where the embedded runners make job workspaces.
        let buildsDirectory: URL
        /// The server process's pid.
        let pid: Int32
        /// `host:port` jobs get as `CI_REGISTRY`, when docker-registry and skopeo are installed; the registry starts on `registry()`.
        let registryAddress: String?
    }

    private var handle: Handle?
    private var process: Subprocess?
    private var registryProcess: Subprocess?

    /// The start in progress: tests that ask while the server starts wait for the same one (the actor is reentrant at each
    /// `await`, and a second start would replace the first's process under it).
    private var starting: Task<Handle, any Error>?

    /// The running server, starting it if needed.
    func start() async throws -> Handle {
        if let handle { return handle }
        if let starting { return try await starting.value }
        let task = Task { try await self.launch() }
        starting = task
        do {
            let handle = try await task.value
            self.handle = handle
            return handle
        } catch {
            starting = nil
            throw error
        }
    }

    private func launch() async throws -> Handle {
        let binary = Self.packageRoot.appendingPathComponent(".build/debug/latchkey")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw LiveServerError.missingBinary(binary.path) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-e2e-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let rootToken = SecretToken.mint(.personalAccess).value
        let log = directory.appendingPathComponent("server.log")
        let builds = directory.appendingPathComponent("builds", isDirectory: true)
        // The registry's address is reserved now (jobs learn it from the server) and the registry itself starts on first use.
        let registryAddress = RegistryFixture.unavailableReason == nil ? "127.0.0.1:\(try RegistryFixture.freePort())" : nil
        var environment = ProcessInfo.processInfo.environment
        environment["LATCHKEY_ROOT_TOKEN"] = rootToken
        environment["LATCHKEY_ROOT_PASSWORD"] = "root-password-e2e"
        // The server exits when this test process does, even if it dies.
        environment["LATCHKEY_PARENT_PID"] = String(getpid())
        var url = ""
        var launched: Subprocess?
        // A random port can be taken meanwhile (another test's client connection got it as its local port): then another.
        attempts: for attempt in 1...5 {
            let port = Int.random(in: 20000..<32000)
            FileManager.default.createFile(atPath: log.path, contents: nil)
            var arguments = [
                binary.path, "serve", "--port", String(port), "--data-dir", directory.appendingPathComponent("data").path, "--runners", "2",
                "--log-level", "debug", "--builds-dir", builds.path,
            ]
            if let registryAddress { arguments += ["--registry", registryAddress] }
            let process = try Subprocess.launch(arguments, environment: environment, output: .appending(log.path), error: .output)
            self.process = process
            launched = process
            url = "http://127.0.0.1:\(port)"
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let response = try? await HTTP.request("GET", url + "/-/readiness"), response.status == 200 { break attempts }
                guard process.isRunning else {
                    let output = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
                    if output.contains("address already in use"), attempt < 5 { continue attempts }
                    throw LiveServerError.exited(output)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            break
        }
        let handle = Handle(
            url: url, rootToken: rootToken, dataDirectory: directory.appendingPathComponent("data"), logFile: log, buildsDirectory: builds,
            pid: launched?.pid ?? 0, registryAddress: registryAddress)
        return handle
    }

    /// The container registry (docker-registry with token auth against this server), started on first use; its `host:port`.
    func registry() async throws -> String {
        let handle = try await start()
        if let reason = RegistryFixture.unavailableReason { throw LiveServerError.unavailable(reason) }
        guard let address = handle.registryAddress else { throw LiveServerError.unavailable("the server was started without a registry") }
        if let registryProcess, registryProcess.isRunning { return address }
        let root = handle.dataDirectory.deletingLastPathComponent()
        let log = root.appendingPathComponent("registry.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = try Subprocess.launch(
            [
                "/bin/bash", Self.packageRoot.appendingPathComponent("scripts/registry-fixture.sh").path, String(address.split(separator: ":").last!),
                handle.url, handle.dataDirectory.path, root.appendingPathComponent("registry").path, String(getpid()),
            ], output: .appending(log.path), error: .output)
        registryProcess = process
        _ = try await eventually("the registry at \(address) to answer", timeout: .seconds(60)) { () -> Bool? in
            guard process.isRunning else { throw LiveServerError.exited(String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)) }
            // A registry with token auth answers /v2/ with 401 and a Bearer challenge naming our realm.
            guard let response = try? await HTTP.request("GET", "http://\(address)/v2/") else { return nil }
            return response.status == 401 ? true : nil
        }
        return address
    }

    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()
}

enum LiveServerError: Error, CustomStringConvertible {
    case missingBinary(String)
    case exited(String)
    case timeout(String)
    case unavailable(String)

    var description: String {
        switch self {
        case .missingBinary(let path): "no server binary at \(path): run `swift build` first"
        case .exited(let log): "the server exited:\n\(log)"
        case .timeout(let what): "timed out waiting for \(what)"
        case .unavailable(let why): why
        }
    }
}

/// How a sandboxed job hands a value to the test: it writes `$CI_PROJECT_DIR/.handoff` and waits until the test has taken it.
///
/// The job sees nothing of the host but its workspace, so the test (root, outside the sandbox) reads the file there, in the
/// workspace `<builds>/<job id>-…` the runner made, and removes it to let the job go on.
enum JobHandoff {
    /// The shell lines that hand `value` over and wait (at most 60 s) for the test to take it.
    static func script(_ value: String) -> String {
        // No single quotes: the line is often put inside a single-quoted YAML scalar.
        // The project's id first, so a test takes only its own project's value (suites run side by side on one server).
        "printf \"%s\" \"$CI_PROJECT_ID\" > \"$CI_PROJECT_DIR/.handoff-project\"; "
            + "printf \"%s\" \"\(value)\" > \"$CI_PROJECT_DIR/.handoff\"; for i in $(seq 600); do [ -e \"$CI_PROJECT_DIR/.handoff\" ] || break; sleep 0.1; done"
    }

    /// Waits for a job of `builds` (job `jobID`, or any job of project `projectID`) to hand something over; returns it and lets
    /// that job continue.
    static func take(from builds: URL, jobID: Int? = nil, projectID: Int? = nil, timeout: Duration = .seconds(90)) async throws -> String {
        precondition(jobID != nil || projectID != nil, "name the job or the project: another suite's job may hand over at the same time")
        return try await eventually("a job to hand a value over in \(builds.path)", timeout: timeout) { () -> String? in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: builds.path)) ?? []
            for name in names where !name.hasSuffix(".tmp") && !name.hasSuffix(".id") && (jobID.map { name.hasPrefix("\($0)-") } ?? true) {
                let directory = builds.appendingPathComponent(name)
                if let projectID {
                    let owner = try? String(contentsOf: directory.appendingPathComponent(".handoff-project"), encoding: .utf8)
                    guard owner == String(projectID) else { continue }
                }
                let file = directory.appendingPathComponent(".handoff")
                guard let text = try? String(contentsOf: file, encoding: .utf8), !text.isEmpty else { continue }
                try? FileManager.default.removeItem(at: file)
                return text
            }
            return nil
        }
    }
}

/// Polls until `condition` returns a value (never a fixed sleep).
func eventually<T: Sendable>(_ what: String, timeout: Duration = .seconds(90), _ condition: @Sendable () async throws -> T?) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if let value = try await condition() { return value }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw LiveServerError.timeout(what)
}

/// Debian's `docker-registry` and `skopeo`, which the container registry tests need (`.ci/run` installs them).
enum RegistryFixture {
    /// Why the registry tests cannot run here, or nil when they can.
    static let unavailableReason: String? = {
        let missing = ["docker-registry", "skopeo"].filter { executable($0) == nil }
        guard !missing.isEmpty else { return nil }
        let reason = "\(missing.joined(separator: " and ")) not installed (apt-get install -y docker-registry skopeo): container registry tests skipped"
        print(reason)
        return reason
    }()

    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A TCP port nobody listens on right now (the kernel picks it).
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw LiveServerError.timeout("a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw LiveServerError.timeout("a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// How the end-to-end tests start programs: with Foundation `Process`'s defaults, but not `Process` itself (its `run()` can
/// crash the whole test process, swift-corelibs-foundation #5472). The child leads a process group of its own and keeps this
/// process's standard streams unless told otherwise; unlike with `Process`, it gets default signal dispositions.
extension Subprocess {
    /// Starts `arguments` (`arguments[0]` an absolute path) with `environment`, by default this process's.
    static func launch(
        _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment, output: Stream = .inherit, error: Stream = .inherit
    ) throws -> Subprocess {
        try Subprocess(arguments, environment: environment, input: .inherit, output: output, error: error, processGroup: true)
    }

    /// Runs `arguments` to its end: its exit status (128 + the signal that ended it) and all it wrote to standard output
    /// (with standard error when `error` is `.output`).
    static func collect(
        _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment, error: Stream = .inherit
    ) throws -> (status: Int32, output: [UInt8]) {
        let process = try launch(arguments, environment: environment, output: .pipe, error: error)
        let output = try process.readToEnd()
        return (process.waitForExit(), output)
    }
}
