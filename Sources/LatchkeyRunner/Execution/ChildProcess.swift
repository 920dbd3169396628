import Foundation
import LatchkeyCore

/// A process in a process group of its own, stdin from /dev/null, stdout and stderr merged into one non-blocking pipe.
///
/// Spawned with `posix_spawn` (`Subprocess.spawn`) rather than `Process` so that the process group, the signal
/// dispositions, the descriptors and the exact environment are ours to set: the job must not inherit the
/// runner's environment, its ignored signals or its open files, and killing `-pid` must reach every
/// process the job started.
struct ChildProcess {
    let pid: pid_t
    private(set) var output: Int32
    /// The read end of the pipe whose write end the child has as `infoDescriptor` (bwrap's `--info-fd`), or -1.
    private(set) var info: Int32 = -1
    private var reaped = false

    enum ReadResult: Equatable {
        case data(Int)
        case wouldBlock
        case endOfFile
    }

    /// Starts `arguments[0]` (an absolute path) with exactly `environment`; with `infoDescriptor`, the child also gets the write end of a second pipe as that descriptor.
    static func spawn(_ arguments: [String], environment: [String: String], infoDescriptor: Int32? = nil) throws -> ChildProcess {
        precondition(arguments.first?.hasPrefix("/") == true, "the executable must be an absolute path")
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard null >= 0 else { throw PrivateFile.error("/dev/null") }
        defer { close(null) }
        let output = try Subprocess.makePipe()
        var info: (read: Int32, write: Int32) = (-1, -1)
        if let infoDescriptor {
            do { info = try Subprocess.makePipe() } catch {
                close(output.read)
                close(output.write)
                throw error
            }
            if info.write == infoDescriptor {
                // dup2 onto itself would keep close-on-exec; move it out of the way first.
                let moved = fcntl(info.write, F_DUPFD_CLOEXEC, infoDescriptor + 1)
                close(info.write)
                info.write = moved
            }
        }
        defer { if info.write >= 0 { close(info.write) } }
        let pid: pid_t
        do {
            pid = try Subprocess.spawn(
                arguments, environment: environment, directory: nil, standard: [null, output.write, output.write], processGroup: true,
                extra: infoDescriptor.flatMap { info.write >= 0 ? (info.write, $0) : nil })
        } catch {
            close(output.read)
            close(output.write)
            if info.read >= 0 { close(info.read) }
            throw error
        }
        close(output.write)
        _ = fcntl(output.read, F_SETFL, fcntl(output.read, F_GETFL) | O_NONBLOCK)
        var child = ChildProcess(pid: pid, output: output.read)
        if info.read >= 0 {
            _ = fcntl(info.read, F_SETFL, fcntl(info.read, F_GETFL) | O_NONBLOCK)
            child.info = info.read
        }
        return child
    }

    /// Everything the info pipe holds now (bwrap writes its JSON once the sandbox is set up).
    func readInfo() -> [UInt8] {
        guard info >= 0 else { return [] }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(info, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes += buffer[0..<count]
                continue
            }
            if count < 0 && errno == EINTR { continue }
            return bytes
        }
    }

    /// Reads what the pipe holds now into `buffer`.
    func read(into buffer: inout [UInt8]) -> ReadResult {
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(output, $0.baseAddress, $0.count) }
            if count > 0 { return .data(count) }
            if count == 0 { return .endOfFile }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .endOfFile
        }
    }

    /// Whether the process has exited, without reaping it: until it is reaped its pid, and so its process group id, cannot be reused.
    func hasExited() -> Bool {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return true }
        #if os(Linux)
        return info.si_signo == SIGCHLD
        #else
        return info.si_pid == pid
        #endif
    }

    /// Sends `signal` to every process in the group.
    func signalGroup(_ signal: Int32) {
        _ = kill(-pid, signal)
    }

    /// Reaps the exited process and returns its exit code (128 + signal when a signal ended it).
    mutating func reap() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        reaped = true
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    mutating func closeOutput() {
        if output >= 0 {
            close(output)
            output = -1
        }
        if info >= 0 {
            close(info)
            info = -1
        }
    }
}
