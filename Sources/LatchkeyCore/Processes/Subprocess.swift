import Foundation
import Synchronization

/// A child process started with `posix_spawn`, its standard streams pipes, files or /dev/null.
///
/// Foundation's `Process.run()` can crash the whole process (swift-corelibs-foundation #5472: an over-read while it
/// lists /proc/self/fd), and it gives no say over the child's signal dispositions: a server that ignores SIGPIPE would
/// hand that to git. Here the child gets default signal handling, an empty signal mask, exactly `environment`, and
/// none of the parent's descriptors beyond 0, 1 and 2. Reads, writes and `waitForExit()` block: call them off the
/// event loops (a thread pool).
public final class Subprocess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// /dev/null.
        case null
        /// A pipe to this process: `write` for standard input, `read` for standard output or error.
        case pipe
        /// The same as standard output (standard error only).
        case output
        /// A file opened for appending (standard output or error), created with mode 0600 if missing.
        case appending(String)
        /// This process's own stream.
        case inherit
    }

    /// Why a child could not be started, or a pipe could not be used.
    public struct Failure: Error, CustomStringConvertible {
        public var operation: String
        public var code: Int32
        public var description: String { "\(operation): \(String(cString: strerror(code)))" }

        public init(operation: String, code: Int32) {
            self.operation = operation
            self.code = code
        }
    }

    public let pid: pid_t
    private let input: Atomic<Int32>
    private let output: Atomic<Int32>
    private let error: Atomic<Int32>
    /// The exit status once reaped; until then the pid cannot be reused, so signalling it reaches our child.
    private let status = Mutex<Int32?>(nil)

    /// Starts `arguments[0]` (an absolute path) with `arguments` as its argv and exactly `environment`.
    public init(
        _ arguments: [String], environment: [String: String], directory: String? = nil,
        input: Stream = .null, output: Stream = .pipe, error: Stream = .null, processGroup: Bool = false
    ) throws {
        guard let executable = arguments.first, executable.hasPrefix("/") else { throw Failure(operation: "spawn \(arguments.first ?? "")", code: ENOENT) }
        var opened: [Int32] = []
        var parentEnds: (input: Int32, output: Int32, error: Int32) = (-1, -1, -1)
        var childEnds: [Int32] = [-1, -1, -1]
        func closeAll() { for descriptor in opened { close(descriptor) } }
        do {
            for (index, stream) in [input, output, error].enumerated() {
                switch stream {
                case .null:
                    let descriptor = Foundation.open("/dev/null", (index == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC)
                    guard descriptor >= 0 else { throw Failure(operation: "open /dev/null", code: errno) }
                    opened.append(descriptor)
                    childEnds[index] = descriptor
                case .pipe:
                    let (read, write) = try Self.makePipe()
                    opened += [read, write]
                    if index == 0 {
                        childEnds[0] = read
                        parentEnds.input = write
                    } else {
                        childEnds[index] = write
                        if index == 1 { parentEnds.output = read } else { parentEnds.error = read }
                    }
                case .output:
                    guard index == 2 else { throw Failure(operation: "spawn: only standard error can go to standard output", code: EINVAL) }
                    childEnds[2] = childEnds[1]
                case .appending(let path):
                    guard index > 0 else { throw Failure(operation: "spawn: standard input cannot append", code: EINVAL) }
                    let descriptor = Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
                    guard descriptor >= 0 else { throw Failure(operation: "open \(path)", code: errno) }
                    opened.append(descriptor)
                    childEnds[index] = descriptor
                case .inherit:
                    childEnds[index] = Int32(index)
                }
            }
            pid = try Self.spawn(arguments, environment: environment, directory: directory, standard: childEnds, processGroup: processGroup)
        } catch {
            closeAll()
            throw error
        }
        // The parent keeps only its own pipe ends.
        for descriptor in opened where descriptor != parentEnds.input && descriptor != parentEnds.output && descriptor != parentEnds.error {
            close(descriptor)
        }
        self.input = Atomic(parentEnds.input)
        self.output = Atomic(parentEnds.output)
        self.error = Atomic(parentEnds.error)
    }

    deinit {
        closeInput()
        for descriptor in [output.exchange(-1, ordering: .relaxed), error.exchange(-1, ordering: .relaxed)] where descriptor >= 0 {
            close(descriptor)
        }
        if status.withLock({ $0 == nil }) {
            // Nobody waited: reap it once it ends (its pipes are closed now, so a well-behaved child ends soon).
            let pid = pid
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
        }
    }

    /// Writes all of `bytes` to the child's standard input.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        let descriptor = input.load(ordering: .relaxed)
        guard descriptor >= 0 else { throw Failure(operation: "write to a closed standard input", code: EBADF) }
        var written = 0
        while written < bytes.count {
            let count = Foundation.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "write to child \(pid)", code: errno)
            }
            written += count
        }
    }

    /// Writes all of `bytes` to the child's standard input.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Hands the parent's end of the standard input pipe to the caller, who closes it from then on; nil if it is not a pipe or was taken.
    public func takeInputDescriptor() -> Int32? {
        let descriptor = input.exchange(-1, ordering: .relaxed)
        return descriptor >= 0 ? descriptor : nil
    }

    /// Hands the parent's end of the standard output pipe to the caller, who closes it from then on; nil if it is not a pipe or was taken.
    public func takeOutputDescriptor() -> Int32? {
        let descriptor = output.exchange(-1, ordering: .relaxed)
        return descriptor >= 0 ? descriptor : nil
    }

    /// Closes the child's standard input, so that it reads end of file.
    public func closeInput() {
        let descriptor = input.exchange(-1, ordering: .relaxed)
        if descriptor >= 0 { close(descriptor) }
    }

    /// The next bytes of standard output (or standard error), up to `maximum`; empty at its end.
    public func read(maximum: Int = 65536, fromError: Bool = false) throws -> [UInt8] {
        let descriptor = fromError ? error.load(ordering: .relaxed) : output.load(ordering: .relaxed)
        guard descriptor >= 0 else { return [] }
        return try [UInt8](unsafeUninitializedCapacity: maximum) { buffer, count in
            while true {
                let result = Foundation.read(descriptor, buffer.baseAddress, maximum)
                if result >= 0 {
                    count = result
                    return
                }
                if errno == EINTR { continue }
                count = 0
                throw Failure(operation: "read from child \(pid)", code: errno)
            }
        }
    }

    /// All of standard output (or standard error) until the child closes it.
    public func readToEnd(fromError: Bool = false) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while true {
            let chunk = try read(fromError: fromError)
            if chunk.isEmpty { return bytes }
            bytes += chunk
        }
    }

    /// Waits for the child to end and returns its exit code, 128 + the signal that ended it, or -1 if it could not be waited for.
    @discardableResult
    public func waitForExit() -> Int32 {
        // Wait without reaping, so that `signal` (which holds the lock) can never hit a reused pid.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        return status.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 {
                if errno != EINTR {
                    status = -1
                    return -1
                }
            }
            let signal = raw & 0x7F
            let code = signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
            status = code
            return code
        }
    }

    /// Whether the child is still running.
    public var isRunning: Bool {
        status.withLock { status in
            guard status == nil else { return false }
            var info = siginfo_t()
            guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return false }
            #if os(Linux)
            return info.si_signo != SIGCHLD
            #else
            return info.si_pid != pid
            #endif
        }
    }

    /// The exit status, if the child has ended and was waited for.
    public var exitStatus: Int32? { status.withLock { $0 } }

    /// Sends `signal` to the child (to its whole process group with `group`) unless it was already reaped.
    public func signal(_ signal: Int32, group: Bool = false) {
        status.withLock { status in
            if status == nil { _ = kill(group ? -pid : pid, signal) }
        }
    }

    /// Runs `arguments` to its end: its exit status and standard output (with standard error when `error` is `.output`).
    public static func run(
        _ arguments: [String], environment: [String: String], directory: String? = nil, input: [UInt8]? = nil, error: Stream = .null
    ) throws -> (status: Int32, output: [UInt8]) {
        let process = try Subprocess(arguments, environment: environment, directory: directory, input: input == nil ? .null : .pipe, error: error)
        if let input {
            // Written from another thread: a child that answers before reading everything must not deadlock us.
            let writer = Thread { [process] in
                try? process.write(input)
                process.closeInput()
            }
            writer.start()
        }
        let output = try process.readToEnd()
        return (process.waitForExit(), output)
    }

    /// The absolute path of `name` in `PATH` (or the default path), if it is there.
    public static func executable(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if name.hasPrefix("/") { return name }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// A pipe whose ends are close-on-exec from the start, so that a child spawned by another thread in between cannot inherit them.
    package static func makePipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [-1, -1]
        #if os(Linux)
        // Glibc's Swift module does not export `pipe2` (it needs _GNU_SOURCE); look it up instead.
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") {
            let pipe2 = unsafeBitCast(symbol, to: Pipe2.self)
            guard descriptors.withUnsafeMutableBufferPointer({ pipe2($0.baseAddress!, O_CLOEXEC) }) == 0 else { throw Failure(operation: "pipe", code: errno) }
            return (descriptors[0], descriptors[1])
        }
        #endif
        guard pipe(&descriptors) == 0 else { throw Failure(operation: "pipe", code: errno) }
        _ = fcntl(descriptors[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(descriptors[1], F_SETFD, FD_CLOEXEC)
        return (descriptors[0], descriptors[1])
    }

    /// `posix_spawn` with `standard` as descriptors 0, 1 and 2 (and `extra` at its target) and every other descriptor closed.
    ///
    /// Always from the spawn thread, so a parent-death signal the child asks for waits for this process's end (SpawnThread).
    package static func spawn(
        _ arguments: [String], environment: [String: String], directory: String?, standard: [Int32], processGroup: Bool,
        extra: (descriptor: Int32, target: Int32)? = nil
    ) throws -> pid_t {
        let extraDescriptor = extra?.descriptor
        let extraTarget = extra?.target
        return try SpawnThread.shared.run {
            try spawnOnThisThread(
                arguments, environment: environment, directory: directory, standard: standard, processGroup: processGroup,
                extra: extraDescriptor.flatMap { descriptor in extraTarget.map { (descriptor, $0) } })
        }
    }

    private static func spawnOnThisThread(
        _ arguments: [String], environment: [String: String], directory: String?, standard: [Int32], processGroup: Bool,
        extra: (descriptor: Int32, target: Int32)?
    ) throws -> pid_t {
        #if os(Linux)
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #else
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, descriptor) in standard.enumerated() {
            // dup2 onto itself keeps close-on-exec set; an inherited stream is already in place without it.
            if descriptor != Int32(target) { posix_spawn_file_actions_adddup2(&actions, descriptor, Int32(target)) }
        }
        if let extra { posix_spawn_file_actions_adddup2(&actions, extra.descriptor, extra.target) }
        if let directory {
            guard let addchdir = FileActions.addchdir else { throw Failure(operation: "spawn in \(directory)", code: ENOSYS) }
            let result = directory.withCString { addchdir(&actions, $0) }
            guard result == 0 else { throw Failure(operation: "spawn in \(directory)", code: result) }
        }
        if let addclosefrom = FileActions.addclosefrom {
            _ = addclosefrom(&actions, (extra?.target ?? 2) + 1)
        }

        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if processGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

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
        guard result == 0 else { throw Failure(operation: "spawn \(arguments[0])", code: result) }
        return pid
    }
}

/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29) and `addclosefrom_np` (2.34), looked up because the Swift module
/// does not export them.
private enum FileActions {
    #if os(Linux)
    typealias Actions = UnsafeMutablePointer<posix_spawn_file_actions_t>
    #else
    typealias Actions = UnsafeMutablePointer<posix_spawn_file_actions_t?>
    #endif
    typealias AddChdir = @convention(c) (Actions, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (Actions, Int32) -> Int32

    static let addchdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
    static let addclosefrom: AddClosefrom? = symbol("posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: AddClosefrom.self) }

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        #if os(Linux)
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)
        #else
        dlsym(UnsafeMutableRawPointer(bitPattern: -2), name)
        #endif
    }
}
