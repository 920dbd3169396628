import Foundation
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
    }

    private var handle: Handle?
    private var process: Process?

    /// The running server, starting it if needed.
    func start() async throws -> Handle {
        if let handle { return handle }
        let binary = Self.packageRoot.appendingPathComponent(".build/debug/latchkey")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw LiveServerError.missingBinary(binary.path) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-e2e-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = Int.random(in: 20000..<60000)
        let rootToken = SecretToken.mint(.personalAccess).value
        let log = directory.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--port", String(port), "--data-dir", directory.appendingPathComponent("data").path, "--runners", "2", "--log-level", "debug"]
        var environment = ProcessInfo.processInfo.environment
        environment["LATCHKEY_ROOT_TOKEN"] = rootToken
        environment["LATCHKEY_ROOT_PASSWORD"] = "root-password-e2e"
        // The server exits when this test process does, even if it dies.
        environment["LATCHKEY_PARENT_PID"] = String(getpid())
        process.environment = environment
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        self.process = process
        let url = "http://127.0.0.1:\(port)"
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let response = try? await HTTP.request("GET", url + "/-/readiness"), response.status == 200 { break }
            guard process.isRunning else { throw LiveServerError.exited(String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)) }
            try await Task.sleep(for: .milliseconds(100))
        }
        let handle = Handle(url: url, rootToken: rootToken, dataDirectory: directory.appendingPathComponent("data"), logFile: log)
        self.handle = handle
        return handle
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

    var description: String {
        switch self {
        case .missingBinary(let path): "no server binary at \(path): run `swift build` first"
        case .exited(let log): "the server exited:\n\(log)"
        case .timeout(let what): "timed out waiting for \(what)"
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
