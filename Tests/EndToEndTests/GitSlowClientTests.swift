import Foundation
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Git: slow clients hold no server thread", .serialized)
struct GitSlowClientTests {
    typealias Server = ServeLifecycleTests.Server

    @Test("forty fetches whose request bodies stall leave clones, pushes and the repository API working")
    func stalledFetches() async throws {
        // All as root: room for the forty and the clone beside them (8 per credential otherwise, `GitSlotsTests`).
        let server = try Server(["--runners", "0", "--git-processes-per-credential", "64"])
        defer { server.stop() }
        try await server.ready()
        let project = try await server.project("slow", ci: "build:\n  script: [\"true\"]\n  rules: [{ if: '$NEVER' }]\n")
        let basic = Data("root:\(server.rootToken)".utf8).base64EncodedString()
        // Each promises a 4 KiB upload-pack request and sends a few bytes of it: git waits for the rest, and so would a thread
        // blocked reading git's output (there were 16 for every git process of the server).
        let head =
            "POST /root/slow.git/git-upload-pack HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic \(basic)\r\n"
            + "Content-Type: application/x-git-upload-pack-request\r\nContent-Length: 4096\r\n\r\n"
        let stalled = try (0..<40).map { _ in try CrashFaultTests.PartialRequest(port: server.port, head: head, bodyPrefix: Array("0032want ".utf8)) }
        // Give the server time to start every backend (polling: each one is a child of the server's process).
        _ = try await eventually("the stalled fetches to reach git", timeout: .seconds(30)) { () -> Bool? in
            Self.children(of: server.process.pid) >= 40 ? true : nil
        }

        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/slow.git"
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-slow-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        // `timeout` turns a hang (every thread taken) into a failure instead of a stuck test run.
        let clone = try Subprocess.run(["/usr/bin/timeout", "60", "/usr/bin/git", "clone", "-q", remote, work.path], environment: Self.gitEnvironment)
        #expect(clone.status == 0, "a clone beside the stalled fetches")
        try "x\n".write(to: work.appendingPathComponent("x.txt"), atomically: true, encoding: .utf8)
        _ = try GitFixtures.git(["add", "x.txt"], in: work)
        _ = try GitFixtures.git(["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x"], in: work)
        let push = try Subprocess.run(["/usr/bin/timeout", "60", "/usr/bin/git", "-C", work.path, "push", "-q", "origin", "main"], environment: Self.gitEnvironment)
        #expect(push.status == 0, "a push beside the stalled fetches")
        let branches = try await HTTP.request("GET", server.url + "/api/v4/projects/\(project)/repository/branches", headers: server.root)
        #expect(branches.status == 200)
        withExtendedLifetime(stalled) {}
    }

    @Test("a push cut off mid-body and HEAD requests for archives leave no git process behind")
    func abandonedRequests() async throws {
        let server = try Server(["--runners", "0"])
        defer { server.stop() }
        try await server.ready()
        let project = try await server.project("cut", ci: "build:\n  script: [\"true\"]\n  rules: [{ if: '$NEVER' }]\n")
        // Enough incompressible content that an archive fills a pipe (64 KiB) nobody reads.
        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/cut.git"
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-cut-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        _ = try GitFixtures.git(["clone", "-q", remote, work.path])
        try Data((0..<(512 << 10)).map { _ in UInt8.random(in: 0...255) }).write(to: work.appendingPathComponent("blob.bin"))
        _ = try GitFixtures.git(["add", "blob.bin"], in: work)
        _ = try GitFixtures.git(["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "blob"], in: work)
        _ = try GitFixtures.git(["push", "-q", "origin", "main"], in: work)
        try await Self.noChildren(of: server)

        let basic = Data("root:\(server.rootToken)".utf8).base64EncodedString()
        let head =
            "POST /root/cut.git/git-receive-pack HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic \(basic)\r\n"
            + "Content-Type: application/x-git-receive-pack-request\r\nContent-Length: 1048576\r\n\r\n"
        var cut: RawConnection? = try RawConnection(port: server.port, head: head, bodyPrefix: Array("0000".utf8) + [UInt8](repeating: 0x50, count: 4096))
        _ = try await eventually("the push to reach git", timeout: .seconds(30)) { () -> Bool? in Self.children(of: server.process.pid) > 0 ? true : nil }
        withExtendedLifetime(cut) {}
        cut = nil
        try await Self.noChildren(of: server)

        for _ in 0..<3 {
            let answer = try await HTTP.request("HEAD", server.url + "/api/v4/projects/\(project)/repository/archive.tar", headers: server.root)
            #expect(answer.status == 200)
        }
        try await Self.noChildren(of: server)
    }

    @Test("a client that asks for an archive and never reads it is cut off after the idle timeout, and git with it")
    func stalledReader() async throws {
        // Long enough that the poll below sees git at work before the deadline ends it, even on a loaded machine.
        let server = try Server(["--runners", "0", "--idle-timeout", "5"])
        defer { server.stop() }
        try await server.ready()
        let project = try await server.project("stall", ci: "build:\n  script: [\"true\"]\n  rules: [{ if: '$NEVER' }]\n")
        // 24 MiB of incompressible content, committed straight into the bare repository: far more than the socket and pipe
        // buffers between git and a client that reads nothing.
        let bare = server.dataDirectory.appendingPathComponent("repositories/\(project).git")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-stall-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        _ = try GitFixtures.git(["clone", "-q", bare.path, work.path])
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        try random.readData(ofLength: 24 << 20).write(to: work.appendingPathComponent("big.bin"))
        _ = try GitFixtures.git(["add", "big.bin"], in: work)
        _ = try GitFixtures.git(["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "big"], in: work)
        _ = try GitFixtures.git(["push", "-q", "origin", "main"], in: work)

        let reader = try RawConnection(
            port: server.port,
            head: "GET /api/v4/projects/\(project)/repository/archive.tar HTTP/1.1\r\nHost: 127.0.0.1\r\nPRIVATE-TOKEN: \(server.rootToken)\r\n\r\n",
            receiveBuffer: 4096)
        _ = try await eventually("git archive to start", timeout: .seconds(30)) { () -> Bool? in Self.children(of: server.process.pid) > 0 ? true : nil }
        try await Self.noChildren(of: server)
        withExtendedLifetime(reader) {}
    }

    /// Waits until the server has no child process left (git ends once its request is gone).
    static func noChildren(of server: Server) async throws {
        _ = try await eventually("the server's git children to end", timeout: .seconds(30)) { () -> Bool? in
            children(of: server.process.pid) == 0 ? true : nil
        }
    }

    static let gitEnvironment: [String: String] = {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
        environment["GIT_TERMINAL_PROMPT"] = "0"
        return environment
    }()

    /// How many processes have `parent` as their parent (from /proc).
    static func children(of parent: Int32) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { entry in
            guard Int32(entry) != nil, let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }.count
    }
}
