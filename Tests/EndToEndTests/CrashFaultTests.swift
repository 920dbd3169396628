import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// kill -9 of the real server in the middle of a write (issue 10): a restarted server on the same data serves the complete old
/// state or the complete new one, never a record pointing at a partial file, and loses nothing it acknowledged.
@Suite("Faults: kill -9 during writes", .serialized)
struct CrashFaultTests {
    typealias Server = ServeLifecycleTests.Server

    /// A request sent by hand over TCP: the headers and only the first part of the body, the connection left open.
    typealias PartialRequest = RawConnection

    /// Kills the server and its process group with SIGKILL (as a container or a systemd unit stop would) and waits (polling)
    /// until it is gone: a git http-backend orphaned mid-push spins on its short body for ever and would eat a core of the run.
    static func crash(_ server: Server) async throws {
        server.process.signal(SIGKILL, group: true)
        _ = try await eventually("the killed server to be gone", timeout: .seconds(30)) { () -> Bool? in server.process.isRunning ? nil : true }
    }

    /// Files directly in `directory` whose name starts with `prefix` and that hold at least one byte.
    static func started(_ directory: URL, prefix: String = "upload-") -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.contains { name in
            name.hasPrefix(prefix)
                && ((try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size] as? NSNumber)?.intValue ?? 0) > 0
        }
    }

    /// A claimed job of a fresh project on `server` (no embedded runner: the test is the runner).
    static func claimedJob(_ server: Server, project name: String) async throws -> (project: Int, job: Int, token: String) {
        let project = try await server.project(name, ci: "build:\n  script: [\"true\"]\n")
        let runner = try await HTTP.request(
            "POST", "\(server.url)/api/v4/user/runners", headers: server.root, json: ["runner_type": "instance_type", "description": "crash"])
        let runnerToken = try #require(runner.object["token"] as? String, "\(runner.text)")
        let claimed = try await eventually("a job to claim") { () -> HTTP.Response? in
            let response = try await HTTP.request("POST", "\(server.url)/api/v4/jobs/request", json: ["token": runnerToken])
            return response.status == 201 ? response : nil
        }
        return (project, try #require(claimed.object["id"] as? Int), try #require(claimed.object["token"] as? String))
    }

    static func multipart(_ content: [UInt8], boundary: String) -> [UInt8] {
        Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"artifacts.zip\"\r\nContent-Type: application/zip\r\n\r\n".utf8)
            + content + Array("\r\n--\(boundary)--\r\n".utf8)
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test("an artifact upload killed half way: after the restart the job's archive is still the complete earlier one")
    func artifactUpload() async throws {
        let server = try Server(["--runners", "0"])
        defer { server.stop() }
        try await server.ready()
        let (project, job, token) = try await Self.claimedJob(server, project: "artifacts")
        let boundary = "crash-\(UUID().uuidString)"
        let first = Self.randomBytes(64 * 1024)
        let uploaded = try await HTTP.request(
            "POST", "\(server.url)/api/v4/jobs/\(job)/artifacts?artifact_format=zip&artifact_type=archive",
            headers: ["JOB-TOKEN": token, "Content-Type": "multipart/form-data; boundary=\(boundary)"], body: Data(Self.multipart(first, boundary: boundary)))
        #expect(uploaded.status == 201, "\(uploaded.text)")

        let second = Self.multipart(Self.randomBytes(4 << 20), boundary: boundary)
        let head =
            "POST /api/v4/jobs/\(job)/artifacts?artifact_format=zip&artifact_type=archive HTTP/1.1\r\nHost: 127.0.0.1\r\nJOB-TOKEN: \(token)\r\n"
            + "Content-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: \(second.count)\r\n\r\n"
        let partial = try PartialRequest(port: server.port, head: head, bodyPrefix: Array(second.prefix(second.count / 2)))
        let temporary = server.dataDirectory.appendingPathComponent("artifacts/tmp")
        _ = try await eventually("the upload to reach the server's disk") { () -> Bool? in Self.started(temporary) ? true : nil }
        try await Self.crash(server)
        withExtendedLifetime(partial) {}

        let again = try Server(["--runners", "0"], directory: server.directory)
        defer { again.stop() }
        try await again.ready()
        let archive = try await HTTP.request("GET", "\(again.url)/api/v4/projects/\(project)/jobs/\(job)/artifacts", headers: server.root)
        #expect(archive.status == 200)
        #expect(Array(archive.body) == first, "the earlier archive, complete (\(archive.body.count) bytes)")
        #expect(archive.headers["content-length"] == String(first.count))
        // The job can still upload: a complete archive replaces the old one whole.
        let third = Self.randomBytes(32 * 1024)
        let replaced = try await HTTP.request(
            "POST", "\(again.url)/api/v4/jobs/\(job)/artifacts?artifact_format=zip&artifact_type=archive",
            headers: ["JOB-TOKEN": token, "Content-Type": "multipart/form-data; boundary=\(boundary)"], body: Data(Self.multipart(third, boundary: boundary)))
        #expect(replaced.status == 201, "\(replaced.text)")
        let now = try await HTTP.request("GET", "\(again.url)/api/v4/projects/\(project)/jobs/\(job)/artifacts", headers: server.root)
        #expect(Array(now.body) == third)
    }

    @Test("a generic package upload killed half way: after the restart the package has only the complete earlier file")
    func packageUpload() async throws {
        let server = try Server(["--runners", "0"])
        defer { server.stop() }
        try await server.ready()
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: server.root, json: ["name": "packages"])
        let project = try #require(created.object["id"] as? Int)
        let path = "/api/v4/projects/\(project)/packages/generic/tool/1.0.0/tool.bin"
        let first = Self.randomBytes(64 * 1024)
        let uploaded = try await HTTP.request("PUT", server.url + path, headers: server.root, body: Data(first))
        #expect(uploaded.status == 201, "\(uploaded.text)")

        let second = Self.randomBytes(4 << 20)
        let head = "PUT \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nPRIVATE-TOKEN: \(server.rootToken)\r\nContent-Length: \(second.count)\r\n\r\n"
        let partial = try PartialRequest(port: server.port, head: head, bodyPrefix: Array(second.prefix(second.count / 2)))
        let temporary = server.dataDirectory.appendingPathComponent("packages/tmp")
        _ = try await eventually("the upload to reach the server's disk") { () -> Bool? in Self.started(temporary) ? true : nil }
        try await Self.crash(server)
        withExtendedLifetime(partial) {}

        let again = try Server(["--runners", "0"], directory: server.directory)
        defer { again.stop() }
        try await again.ready()
        let file = try await HTTP.request("GET", again.url + path, headers: server.root)
        #expect(file.status == 200)
        #expect(Array(file.body) == first, "the earlier file, complete (\(file.body.count) bytes)")
        let packages = try await HTTP.request("GET", "\(again.url)/api/v4/projects/\(project)/packages", headers: server.root).array
        #expect(packages.count == 1)
    }

    @Test("a package upload whose client goes away half way stores nothing: a short body is never a package file")
    func truncatedPackageBody() async throws {
        let server = try Server(["--runners", "0"])
        defer { server.stop() }
        try await server.ready()
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: server.root, json: ["name": "short"])
        let project = try #require(created.object["id"] as? Int)
        let path = "/api/v4/projects/\(project)/packages/generic/tool/1.0.0/tool.bin"
        let head = "PUT \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nPRIVATE-TOKEN: \(server.rootToken)\r\nContent-Length: \(1 << 20)\r\n\r\n"
        let partial = try PartialRequest(port: server.port, head: head, bodyPrefix: Self.randomBytes(300 * 1024))
        let temporary = server.dataDirectory.appendingPathComponent("packages/tmp")
        _ = try await eventually("the upload to reach the server's disk") { () -> Bool? in Self.started(temporary) ? true : nil }
        shutdown(partial.socket, Int32(SHUT_RDWR))
        _ = try await eventually("the server to drop the short upload") { () -> Bool? in Self.started(temporary) ? nil : true }
        #expect(try await HTTP.request("GET", server.url + path, headers: server.root).status == 404)
        #expect(try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(project)/packages", headers: server.root).array.isEmpty)
    }

    @Test("a trace PATCH killed half way: after the restart the trace holds exactly the acknowledged bytes, and the runner resumes from there")
    func tracePatch() async throws {
        let server = try Server(["--runners", "0"])
        defer { server.stop() }
        try await server.ready()
        let (project, job, token) = try await Self.claimedJob(server, project: "trace")
        let acknowledged = "acknowledged line\n"
        let first = try await HTTP.request(
            "PATCH", "\(server.url)/api/v4/jobs/\(job)/trace", headers: ["JOB-TOKEN": token, "Content-Range": "0-\(acknowledged.utf8.count - 1)"],
            body: Data(acknowledged.utf8))
        #expect(first.status == 202)
        #expect(first.headers["range"] == "0-\(acknowledged.utf8.count)")

        let chunk = Array(String(repeating: "lost line\n", count: 100_000).utf8)
        let start = acknowledged.utf8.count
        let head =
            "PATCH /api/v4/jobs/\(job)/trace HTTP/1.1\r\nHost: 127.0.0.1\r\nJOB-TOKEN: \(token)\r\nContent-Range: \(start)-\(start + chunk.count - 1)\r\n"
            + "Content-Length: \(chunk.count)\r\n\r\n"
        let partial = try PartialRequest(port: server.port, head: head, bodyPrefix: Array(chunk.prefix(chunk.count / 2)))
        // The body is collected before anything is written: give the server a moment of it, then kill it.
        _ = try await eventually("the server to read the body") { () -> Bool? in
            var info = tcp_info()
            var length = socklen_t(MemoryLayout<tcp_info>.size)
            guard getsockopt(partial.socket, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 else { return nil }
            return info.tcpi_unacked == 0 ? true : nil
        }
        try await Self.crash(server)
        withExtendedLifetime(partial) {}

        let again = try Server(["--runners", "0"], directory: server.directory)
        defer { again.stop() }
        try await again.ready()
        // The server's masker may still hold the end of the last line back (it could begin a secret) until the job ends.
        let trace = try await HTTP.request("GET", "\(again.url)/api/v4/projects/\(project)/jobs/\(job)/trace", headers: server.root)
        #expect(acknowledged.hasPrefix(trace.text) && !trace.text.isEmpty, "\(trace.text)")
        // A runner that sends the lost chunk again from where it thinks it is gets the server's offset, then goes on from there.
        let resumed = try await HTTP.request(
            "PATCH", "\(again.url)/api/v4/jobs/\(job)/trace", headers: ["JOB-TOKEN": token, "Content-Range": "\(start)-\(start + 9)"],
            body: Data("next line\n".utf8))
        #expect(resumed.status == 202, "\(resumed.status) \(resumed.text)")
        let finished = try await HTTP.request("PUT", "\(again.url)/api/v4/jobs/\(job)", json: ["token": token, "state": "success"])
        #expect(finished.status == 200, "\(finished.text)")
        let complete = try await HTTP.request("GET", "\(again.url)/api/v4/projects/\(project)/jobs/\(job)/trace", headers: server.root).text
        #expect(complete == acknowledged + "next line\n", "no byte of the unacknowledged chunk: \(complete.prefix(200))")
    }

    @Test("a git push killed half way: after the restart the branch is the complete old commit, the repository is sound, and the push goes through")
    func gitPush() async throws {
        let server = try Server(["--runners", "0"])
        defer { server.stop() }
        try await server.ready()
        let project = try await server.project("pushed", ci: "build:\n  script: [\"true\"]\n  rules: [{ if: '$NEVER' }]\n")
        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/pushed.git"
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-push-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["clone", "-q", remote, work.path])
        let old = try GitFixtures.git(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
        // A commit with 8 MiB of incompressible data, packed by hand so the test can send half of it.
        try Data(Self.randomBytes(8 << 20)).write(to: work.appendingPathComponent("blob.bin"))
        try GitFixtures.git(["add", "blob.bin"], in: work)
        try GitFixtures.git(["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "big"], in: work)
        let new = try GitFixtures.git(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
        let packFile = work.appendingPathComponent("push.pack")
        _ = try GitFixtures.git(["bundle", "create", "-q", packFile.path, "\(old)..main"], in: work)
        // A bundle is its header (up to the first blank line) and then the pack itself.
        let bundle = try [UInt8](Data(contentsOf: packFile))
        let packStart = try #require((0..<(bundle.count - 1)).first { bundle[$0] == 0x0A && bundle[$0 + 1] == 0x0A }) + 2
        let pack = Array(bundle[packStart...])
        let command = "\(old) \(new) refs/heads/main\0report-status\n"
        let line = String(format: "%04x", command.utf8.count + 4) + command
        let body = Array((line + "0000").utf8) + pack
        let basic = Data("root:\(server.rootToken)".utf8).base64EncodedString()
        let head =
            "POST /root/pushed.git/git-receive-pack HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic \(basic)\r\n"
            + "Content-Type: application/x-git-receive-pack-request\r\nContent-Length: \(body.count)\r\n\r\n"
        let repository = server.dataDirectory.appendingPathComponent("repositories/\(project).git")
        let partial = try PartialRequest(port: server.port, head: head, bodyPrefix: Array(body.prefix(body.count / 2)))
        // receive-pack takes the pack into a quarantine directory until every object is in and checked.
        _ = try await eventually("receive-pack to take the pack in", timeout: .seconds(30)) { () -> Bool? in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("objects").path)) ?? []
            return names.contains { $0.hasPrefix("incoming-") || $0.hasPrefix("tmp_") } ? true : nil
        }
        try await Self.crash(server)
        withExtendedLifetime(partial) {}

        let again = try Server(["--runners", "0"], directory: server.directory)
        defer { again.stop() }
        try await again.ready()
        let againRemote = again.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/pushed.git"
        let heads = try GitFixtures.git(["ls-remote", againRemote, "refs/heads/main"], in: work)
        #expect(heads.hasPrefix(old), "the branch is the old commit: \(heads)")
        _ = try GitFixtures.git(["fsck", "--no-progress"], in: repository)
        try GitFixtures.git(["push", "-q", againRemote, "main"], in: work)
        #expect(try GitFixtures.git(["ls-remote", againRemote, "refs/heads/main"], in: work).hasPrefix(new))
        _ = try GitFixtures.git(["fsck", "--no-progress"], in: repository)
    }
    /// The processes below `pid` now (from /proc), with their command names.
    static func descendants(of pid: pid_t) -> [(pid: pid_t, name: String)] {
        var parents: [pid_t: (parent: pid_t, name: String)] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, let parent = pid_t(fields[1]) else { continue }
            parents[child] = (parent, String(stat[stat.index(after: open)..<close]))
        }
        var found: [(pid: pid_t, name: String)] = []
        var frontier: Set<pid_t> = [pid]
        while !frontier.isEmpty {
            let next = parents.filter { frontier.contains($0.value.parent) }
            found += next.map { ($0.key, $0.value.name) }
            frontier = Set(next.keys)
        }
        return found
    }

    /// Gone, or a zombie nobody has reaped yet (it runs no more).
    static func ended(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    @Test("a git http-backend serving a push when the server is killed dies with it: no orphan is left spinning on its short body")
    func gitBackendDiesWithServer() async throws {
        let server = try Server(["--runners", "0"])
        defer { server.stop() }
        try await server.ready()
        _ = try await server.project("orphans", ci: "build:\n  script: [\"true\"]\n  rules: [{ if: '$NEVER' }]\n")
        let basic = Data("root:\(server.rootToken)".utf8).base64EncodedString()
        // A push body that promises far more than it sends: http-backend waits for the rest (and loops once its input is gone).
        let head =
            "POST /root/orphans.git/git-receive-pack HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic \(basic)\r\n"
            + "Content-Type: application/x-git-receive-pack-request\r\nContent-Length: 1000000\r\n\r\n"
        let partial = try PartialRequest(port: server.port, head: head, bodyPrefix: Array("0000".utf8))
        let backends = try await eventually("git http-backend to run for the push", timeout: .seconds(30)) { () -> [pid_t]? in
            let found = Self.descendants(of: server.process.pid).filter { $0.name.hasPrefix("git-http-back") }.map(\.pid)
            return found.isEmpty ? nil : found
        }
        // The server alone, as the kernel's OOM killer would: its children are not signalled by anyone.
        server.process.signal(SIGKILL)
        _ = try await eventually("the killed server to be gone", timeout: .seconds(30)) { () -> Bool? in server.process.isRunning ? nil : true }
        withExtendedLifetime(partial) {}
        _ = try await eventually("the orphaned git http-backend to be gone", timeout: .seconds(15)) { () -> Bool? in
            backends.allSatisfy(Self.ended) ? true : nil
        }
    }
}
