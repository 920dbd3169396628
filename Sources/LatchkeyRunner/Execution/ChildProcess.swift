import Foundation

/// A process in a process group of its own, stdin from /dev/null, stdout and stderr merged into one non-blocking pipe.
///
/// Spawned with `posix_spawn` rather than `Process` so that the process group, the signal
/// dispositions and the exact environment are ours to set: the job must not inherit the
/// runner's environment or its ignored signals, and killing `-pid` must reach every
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
        var descriptors: [Int32] = [-1, -1]
        try makePipe(&descriptors)
        var infoDescriptors: [Int32] = [-1, -1]
        if let infoDescriptor {
            do { try makePipe(&infoDescriptors) } catch {
                close(descriptors[0])
                close(descriptors[1])
                throw error
            }
            if infoDescriptors[1] == infoDescriptor {
                // dup2 onto itself would keep close-on-exec; move it out of the way first.
                let moved = fcntl(infoDescriptors[1], F_DUPFD_CLOEXEC, infoDescriptor + 1)
                close(infoDescriptors[1])
                infoDescriptors[1] = moved
            }
        }
        defer { if infoDescriptors[1] >= 0 { close(infoDescriptors[1]) } }

        #if os(Linux)
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #else
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, descriptors[1], 1)
        posix_spawn_file_actions_adddup2(&actions, descriptors[1], 2)
        if let infoDescriptor, infoDescriptors[1] >= 0 {
            posix_spawn_file_actions_adddup2(&actions, infoDescriptors[1], infoDescriptor)
        }

        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // C strings cannot hold NUL; such keys or values are dropped rather than truncated.
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] =
            environment.sorted { $0.key < $1.key }
            .filter { !$0.key.isEmpty && !$0.key.contains("=") && !$0.key.utf8.contains(0) && !$0.value.utf8.contains(0) }
            .map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(descriptors[1])
        guard result == 0 else {
            close(descriptors[0])
            if infoDescriptors[0] >= 0 { close(infoDescriptors[0]) }
            errno = result
            throw PrivateFile.error(arguments[0])
        }
        _ = fcntl(descriptors[0], F_SETFL, fcntl(descriptors[0], F_GETFL) | O_NONBLOCK)
        var child = ChildProcess(pid: pid, output: descriptors[0])
        if infoDescriptors[0] >= 0 {
            _ = fcntl(infoDescriptors[0], F_SETFL, fcntl(infoDescriptors[0], F_GETFL) | O_NONBLOCK)
            child.info = infoDescriptors[0]
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

    /// A pipe whose ends are close-on-exec from the start: with `pipe` + `fcntl`, a job spawned
    /// by another worker in between would inherit our write end and hold our output open.
    private static func makePipe(_ descriptors: inout [Int32]) throws {
        #if os(Linux)
        // Glibc's Swift module does not export `pipe2` (it needs _GNU_SOURCE); look it up instead.
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") {
            let pipe2 = unsafeBitCast(symbol, to: Pipe2.self)
            guard descriptors.withUnsafeMutableBufferPointer({ pipe2($0.baseAddress!, O_CLOEXEC) }) == 0 else { throw PrivateFile.error("pipe") }
            return
        }
        #endif
        guard pipe(&descriptors) == 0 else { throw PrivateFile.error("pipe") }
        _ = fcntl(descriptors[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(descriptors[1], F_SETFD, FD_CLOEXEC)
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
