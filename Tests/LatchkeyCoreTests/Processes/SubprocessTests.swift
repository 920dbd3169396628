import Foundation
import LatchkeyCore
import Synchronization
import Testing

@Suite("Subprocess")
struct SubprocessTests {
    @Test("input is piped in and output read back; the exit code and a killing signal are reported")
    func roundTrip() throws {
        let cat = try Subprocess.run(["/bin/cat"], environment: [:], input: Array("hello\n".utf8))
        #expect(cat.status == 0)
        #expect(String(decoding: cat.output, as: UTF8.self) == "hello\n")
        #expect(try Subprocess.run(["/bin/sh", "-c", "exit 7"], environment: [:]).status == 7)
        let sleeper = try Subprocess(["/bin/sleep", "30"], environment: [:], output: .null)
        #expect(sleeper.isRunning)
        sleeper.signal(SIGTERM)
        #expect(sleeper.waitForExit() == 128 + SIGTERM)
        #expect(!sleeper.isRunning)
        sleeper.signal(SIGKILL)  // reaped: no signal reaches a reused pid
    }

    @Test("the child gets exactly the environment given, default signals, and no descriptor beyond 0, 1 and 2")
    func cleanChild() throws {
        let environment = try Subprocess.run(["/usr/bin/env"], environment: ["ONLY": "this"])
        #expect(String(decoding: environment.output, as: UTF8.self) == "ONLY=this\n")
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        // SigIgn is the ignored-signal mask in hex: with SIGPIPE inherited it would have bit 13 set.
        let status = try Subprocess.run(["/bin/sh", "-c", "grep SigIgn /proc/self/status; ls /proc/self/fd"], environment: ["PATH": "/usr/bin:/bin"])
        let lines = String(decoding: status.output, as: UTF8.self).split(separator: "\n")
        let ignored = UInt64(lines.first?.split(separator: "\t").last ?? "", radix: 16) ?? .max
        #expect(ignored & (1 << (UInt64(SIGPIPE) - 1)) == 0, "\(lines)")
        // `ls` itself holds one descriptor for the directory it lists.
        #expect(Set(lines.dropFirst()).subtracting(["0", "1", "2", "3"]).isEmpty, "\(lines)")
    }

    @Test("standard error joins standard output or is dropped; a working directory is honoured; a relative path is refused")
    func streamsAndDirectory() throws {
        let merged = try Subprocess.run(["/bin/sh", "-c", "echo out; echo err >&2; pwd"], environment: [:], directory: "/tmp", error: .output)
        #expect(String(decoding: merged.output, as: UTF8.self) == "out\nerr\n/tmp\n")
        let dropped = try Subprocess.run(["/bin/sh", "-c", "echo err >&2"], environment: [:])
        #expect(dropped.output.isEmpty)
        #expect(throws: Subprocess.Failure.self) { try Subprocess(["sh"], environment: [:]) }
        #expect(throws: Subprocess.Failure.self) { try Subprocess(["/nonexistent/tool"], environment: [:]) }
    }
    @Test("a child killed with its parent outlives the thread that started it: Linux ties a parent-death signal to that thread")
    func parentDeathSignalOutlivesTheStartingThread() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "setpriv (util-linux) is needed")
        let started = Mutex<Result<Subprocess, any Error>?>(nil)
        let thread = Thread {
            started.withLock { $0 = Result { try Subprocess(Subprocess.killedWithParent(["/bin/sleep", "600"]), environment: [:], output: .null) } }
            // Long enough for setpriv to have set the signal and exec'd sleep before this thread ends. (The child sleeps for
            // minutes: on a loaded machine this test's task may wait long for a thread, and the child must still be running then.)
            Thread.sleep(forTimeInterval: 0.3)
        }
        thread.start()
        // Then a parent-death signal tied to the thread would arrive at once.
        while !thread.isFinished { try await Task.sleep(for: .milliseconds(10)) }
        let child = try #require(started.withLock { $0 }).get()
        try await Task.sleep(for: .milliseconds(300))
        #expect(child.isRunning, "the child died with the thread that spawned it")
        child.signal(SIGKILL)
        #expect(child.waitForExit() == 128 + SIGKILL)
    }
}
