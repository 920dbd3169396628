import Foundation
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// Hostile jobs on the embedded runner (the default `latchkey serve`) and on a separate `latchkey runner run`: each attack
/// on the server, the runner or another job must fail, while ordinary jobs keep working inside the sandbox.
@Suite("Job sandbox, end to end", .serialized)
struct SandboxTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    /// Every attack prints `LEAK <what>` when it succeeds and `HELD <what>` when it fails; the test wants only the second.
    static func hostileScript(dataDirectory: String, serverPID: Int32, runnerConfig: String?, marker: String) -> String {
        """
        set +e
        \(JobHandoff.script("attacker-go"))
        leak() { echo "LEAK $1"; }
        held() { echo "HELD $1"; }
        echo "uid=$(id -u) gid=$(id -g)"
        # The server's environment and command line, by pid and by scanning every process the job can see.
        if cat /proc/\(serverPID)/environ 2>/dev/null | tr '\\0' '\\n' | grep -q LATCHKEY; then leak server-environ; else held server-environ; fi
        if cat /proc/\(serverPID)/cmdline >/dev/null 2>&1; then leak server-cmdline; else held server-cmdline; fi
        if cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -q -e LATCHKEY_ROOT -e glrt- -e VICTIM_SECRET; then leak other-environ; else held other-environ; fi
        # The pattern comes from a file: on grep's own command line it would find grep itself.
        printf '%s' "\(marker)-vic" > "$CI_PROJECT_DIR/.pattern"; printf 'tim' >> "$CI_PROJECT_DIR/.pattern"
        if grep -l -a -F -f "$CI_PROJECT_DIR/.pattern" /proc/[0-9]*/cmdline 2>/dev/null | grep -q .; then leak other-job-process; else held other-job-process; fi
        count=$(ls -d /proc/[0-9]* | wc -l)
        if [ "$count" -gt 20 ]; then leak "process-list $count"; else held "process-list $count"; fi
        # The data directory and the runner's config, by absolute path.
        if ls "\(dataDirectory)" >/dev/null 2>&1 || cat "\(dataDirectory)/server-secret" >/dev/null 2>&1; then leak data-dir; else held data-dir; fi
        if cat "\(dataDirectory)/latchkey.sqlite" >/dev/null 2>&1; then leak database; else held database; fi
        \(runnerConfig.map { "if cat \"\($0)\" >/dev/null 2>&1; then leak runner-config; else held runner-config; fi" } ?? "held runner-config")
        if ls /root/.pyenv >/dev/null 2>&1 || ls /work >/dev/null 2>&1; then leak host-home; else held host-home; fi
        # Other jobs' workspaces: the builds directory shows this job's own directories only.
        others=$(ls -a "$(dirname "$CI_PROJECT_DIR")" | grep -v -e '^\\.' -e "^$(basename "$CI_PROJECT_DIR")" | head -3)
        if [ -n "$others" ]; then leak "other-workspace $others"; else held other-workspace; fi
        if cat "$(dirname "$CI_PROJECT_DIR")"/*/victim-file 2>/dev/null | grep -q .; then leak victim-file; else held victim-file; fi
        # Signals: the server's pid does not exist in here.
        if kill -0 \(serverPID) 2>/dev/null; then leak kill-server; else held kill-server; fi
        kill -9 \(serverPID) 2>/dev/null
        # Writing where the system is.
        if touch /usr/bin/latchkey-probe 2>/dev/null || touch /etc/latchkey-probe 2>/dev/null; then leak write-system; else held write-system; fi
        # A daemon that tries to outlive the job.
        setsid sh -c 'while true; do date > "$CI_PROJECT_DIR/alive"; sleep 1; done' \(marker)-daemon </dev/null >/dev/null 2>&1 &
        nohup sleep 300 >/dev/null 2>&1 &
        echo "attacks done"
        """
    }

    /// The victim: a concurrent job with a secret in its environment and a file in its workspace, running until released.
    static func victimScript(marker: String) -> String {
        """
        echo "victim secret" > victim-file
        sh -c 'sleep 60' \(marker)-victim &
        \(JobHandoff.script("victim-up"))
        \(JobHandoff.script("victim-release"))
        """
    }

    func created(_ method: String, _ path: String, _ json: [String: any Sendable]) async throws -> [String: Any] {
        let response = try await HTTP.request(method, "\(server.url)/api/v4/\(path)", headers: root, json: json)
        #expect(response.status == 201, "\(method) \(path): \(response.status) \(response.text)")
        return response.object
    }

    /// A project of root's with `files` pushed by real git; its id.
    func project(_ name: String, files: [String: String]) async throws -> Int {
        let id = try #require(try await created("POST", "projects", ["name": name, "visibility": "private"])["id"] as? Int)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-sandbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        for (path, content) in files { try Data(content.utf8).write(to: work.appendingPathComponent(path)) }
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/\(name).git"
        try GitFixtures.git(["push", "-q", remote, "main"], in: work)
        return id
    }

    func jobs(_ projectID: Int) async throws -> [[String: Any]] {
        try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs", headers: root).array
    }

    func job(named name: String, in projectID: Int) async throws -> Int {
        try await eventually("job \(name) of project \(projectID)") { () -> Int? in
            try await jobs(projectID).first { $0["name"] as? String == name }?["id"] as? Int
        }
    }

    func finished(_ projectID: Int, _ jobID: Int) async throws -> (status: String, trace: String) {
        let status = try await eventually("job \(jobID) to finish") { () -> String? in
            let job = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)", headers: root).object
            let status = job["status"] as? String ?? ""
            return ["success", "failed", "canceled"].contains(status) ? status : nil
        }
        let trace = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)/trace", headers: root).text
        return (status, trace)
    }

    /// Host processes whose command line contains `text` (the test runs outside every sandbox and sees them all).
    static func hostProcesses(containing text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            return data.range(of: Data(text.utf8)) != nil ? pid : nil
        }
    }

    /// Runs the victim and the attacker side by side and checks every attack failed and nothing outlived the attacker.
    func attack(tags: [String], runnerConfig: String?, builds: URL, runnerIsRoot: Bool = geteuid() == 0) async throws -> String {
        let marker = "lkmark" + String(UUID().uuidString.prefix(8)).lowercased()
        let tagLine = tags.isEmpty ? "" : "  tags: [\(tags.joined(separator: ", "))]\n"
        let ci = """
            victim:
            \(tagLine)  variables:
                VICTIM_SECRET: "\(marker)-secret"
              script:
                - |
            \(Self.victimScript(marker: marker).split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            attacker:
            \(tagLine)  script:
                - |
            \(Self.hostileScript(dataDirectory: server.dataDirectory.path, serverPID: server.pid, runnerConfig: runnerConfig, marker: marker).split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            """
        let projectID = try await project("sandbox-\(marker)", files: [".gitlab-ci.yml": ci])
        let victim = try await job(named: "victim", in: projectID)
        let attacker = try await job(named: "attacker", in: projectID)
        // The attacks start once the victim runs, with its process and its file in place.
        #expect(try await JobHandoff.take(from: builds, jobID: victim) == "victim-up")
        #expect(try await JobHandoff.take(from: builds, jobID: attacker) == "attacker-go")
        let attack = try await finished(projectID, attacker)
        #expect(try await JobHandoff.take(from: builds, jobID: victim) == "victim-release")
        let victimResult = try await finished(projectID, victim)
        #expect(victimResult.status == "success", "\(victimResult.trace)")

        #expect(attack.status == "success", "\(attack.trace)")
        #expect(attack.trace.contains("attacks done"), "\(attack.trace)")
        #expect(!attack.trace.contains("LEAK"), "\(attack.trace)")
        if ProcessInfo.processInfo.environment["LATCHKEY_TEST_PRINT_TRACES"] != nil { print(attack.trace) }
        for check in ["server-environ", "server-cmdline", "other-environ", "other-job-process", "process-list", "data-dir", "database", "runner-config",
            "host-home", "other-workspace", "victim-file", "kill-server", "write-system"]
        {
            #expect(attack.trace.contains("HELD \(check)"), "\(check) was not checked:\n\(attack.trace)")
        }
        if runnerIsRoot {
            // A root runner runs each job as a uid of its own range, never as root.
            let uid = attack.trace.split(separator: "\n").first { $0.hasPrefix("uid=") }.flatMap { Int($0.dropFirst(4).prefix { $0.isNumber }) }
            #expect(uid.map { (20000...20999).contains($0) } == true, "\(attack.trace)")
        }
        // The daemon and the background sleep died with the job's sandbox.
        _ = try await eventually("the attacker's daemon to be gone", timeout: .seconds(20)) { () -> Bool? in
            Self.hostProcesses(containing: "\(marker)-daemon").isEmpty ? true : nil
        }
        #expect(!FileManager.default.fileExists(atPath: "/usr/bin/latchkey-probe"))
        #expect(try await HTTP.request("GET", "\(server.url)/-/readiness").status == 200, "the server survived")
        return attack.trace
    }

    @Test("a hostile job on the embedded runner reaches neither the server, nor the data directory, nor a concurrent job")
    func embeddedRunner() async throws {
        _ = try await attack(tags: [], runnerConfig: nil, builds: server.buildsDirectory)
    }

    @Test("the server keeps no credential in its environment, and its data directory is its own")
    func serverEnvironment() throws {
        let environ = try #require(FileManager.default.contents(atPath: "/proc/\(server.pid)/environ"))
        #expect(environ.range(of: Data(server.rootToken.utf8)) == nil, "the root token is still in /proc/<server>/environ")
        #expect(environ.range(of: Data("root-password-e2e".utf8)) == nil)
        var status = stat()
        #expect(stat(server.dataDirectory.path, &status) == 0)
        #expect(status.st_mode & 0o077 == 0, "data directory mode \(String(status.st_mode & 0o777, radix: 8))")
        for name in try FileManager.default.contentsOfDirectory(atPath: server.dataDirectory.path) {
            #expect(lstat(server.dataDirectory.appendingPathComponent(name).path, &status) == 0)
            #expect(status.st_mode & 0o077 == 0, "\(name) has mode \(String(status.st_mode & 0o777, radix: 8))")
        }
    }

    @Test("a hostile job on a separate `latchkey runner run` reads neither the runner's config nor anything of the server")
    func separateRunner() async throws {
        try await separateRunner(as: nil)
    }

    @Test(
        "the same holds for a runner that is not root: its jobs keep its uid inside a user namespace",
        .enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root to start a runner as nobody"))
    func unprivilegedRunner() async throws {
        try await separateRunner(as: 65534)
    }

    /// Registers a runner with a tag of its own and runs `latchkey runner run` (as `uid` when given), then attacks through it.
    func separateRunner(as uid: UInt32?) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-runner-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = LiveServer.packageRoot.appendingPathComponent(".build/debug/latchkey").path
        let registration = try Self.output(binary, ["admin", "registration-token", "--data-dir", server.dataDirectory.path])
        let registrationToken = try #require(registration.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("glrt") }.map(String.init), "\(registration)")
        let config = directory.appendingPathComponent("runner.json").path
        let tag = "isolated-" + String(UUID().uuidString.prefix(6)).lowercased()
        _ = try Self.output(
            binary, ["runner", "register", "--url", server.url, "--registration-token", registrationToken, "--tag-list", tag, "--no-run-untagged", "--config", config])
        let builds = directory.appendingPathComponent("builds", isDirectory: true)
        var arguments = [binary, "runner", "run", "--config", config, "--concurrent", "2", "--builds-dir", builds.path]
        if let uid {
            // The runner's own files become the unprivileged user's; the data directory stays root's.
            try FileManager.default.createDirectory(at: builds, withIntermediateDirectories: true)
            for path in [config, builds.path] { #expect(chown(path, uid, uid) == 0) }
            arguments = ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--"] + arguments
        }
        let log = directory.appendingPathComponent("runner.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let runner = try Subprocess.launch(arguments, output: .appending(log.path), error: .output)
        defer {
            runner.signal(SIGTERM)
            runner.waitForExit()
        }
        let trace = try await attack(tags: [tag], runnerConfig: config, builds: builds, runnerIsRoot: uid == nil && geteuid() == 0)
        #expect(trace.contains("bubblewrap sandbox"), "\(trace)")
        if let uid { #expect(trace.contains("uid=\(uid) "), "\(trace)") }
    }

    @Test("ordinary jobs work in the sandbox: git, curl with the job token, artifacts, and python-gitlab")
    func ordinaryJobs() async throws {
        let python = Self.systemPythonHasGitlab
        if !python { print("Debian's python3-gitlab is not installed (apt-get install python3-gitlab): the python-gitlab part is skipped") }
        var script = [
            "'curl -sf -H \"JOB-TOKEN: $CI_JOB_TOKEN\" \"$CI_API_V4_URL/job\" > job.json'",
            "grep -q \"\\\"id\\\"\" job.json && echo curl-ok",
            "git log -1 --format=commit-%s",
            "echo artifact-content > out.txt",
            "echo \"home=$HOME path=$PATH\"",
        ]
        if python {
            script.append(
                "'/usr/bin/python3 -c \"import gitlab, os; gl = gitlab.Gitlab(os.environ[\\\"CI_SERVER_URL\\\"], job_token=os.environ[\\\"CI_JOB_TOKEN\\\"]); print(\\\"python-gitlab-ok\\\", gl.http_get(\\\"/job\\\")[\\\"id\\\"])\"'"
            )
        }
        let ci = "build:\n  script:\n" + script.map { "    - \($0)\n" }.joined() + "  artifacts:\n    paths: [out.txt]\n"
        let projectID = try await project("sandbox-ordinary-\(UUID().uuidString.prefix(6).lowercased())", files: [".gitlab-ci.yml": ci])
        let jobID = try await job(named: "build", in: projectID)
        let result = try await finished(projectID, jobID)
        #expect(result.status == "success", "\(result.trace)")
        #expect(result.trace.contains("curl-ok"))
        #expect(result.trace.contains("commit-ci"))
        let environment = try #require(result.trace.split(separator: "\n").first { $0.hasPrefix("home=") }, "\(result.trace)")
        #expect(!environment.contains("/root") && environment.contains("path=/usr/local/sbin:"), "the job's PATH and HOME name nothing under a private home: \(environment)")
        if python { #expect(result.trace.contains("python-gitlab-ok \(jobID)"), "\(result.trace)") }
        let artifact = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)/artifacts/out.txt", headers: root)
        #expect(artifact.status == 200)
        #expect(artifact.text == "artifact-content\n")
    }

    static let systemPythonHasGitlab: Bool = {
        (try? output("/usr/bin/python3", ["-c", "import gitlab"])) != nil
    }()

    /// Runs a command to its end; its standard output, or an error with what it printed.
    static func output(_ executable: String, _ arguments: [String]) throws -> String {
        let (status, output) = try Subprocess.collect([executable] + arguments, error: .output)
        let text = String(decoding: output, as: UTF8.self)
        guard status == 0 else { throw LiveServerError.exited("\(executable) \(arguments.joined(separator: " ")): \(text)") }
        return text
    }
}
