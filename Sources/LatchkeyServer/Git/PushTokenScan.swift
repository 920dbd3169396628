import Foundation
import LatchkeyCore
import Synchronization

/// One push's scan for leaked tokens: the `pre-receive` hook streams the pushed objects (commits, tags, trees, blobs not already in
/// the repository) to the server through a FIFO, the server looks the candidates up, revokes the live ones and answers the verdict
/// through a second FIFO; a refused push never lands.
///
/// Work is bounded: blobs larger than `largestBlob` are not read (GitLab's secret push protection skips large blobs too), and past
/// `budget` scanned bytes the server stops reading and lets the rest through unscanned (logged). If anything goes wrong before a
/// verdict is written (the server's side ends, the database does not answer), the hook refuses the push.
final class PushTokenScan: Sendable {
    static let variable = "LATCHKEY_TOKEN_SCAN"
    static let largestBlob = 8 << 20
    static let budget = LeakedTokenGuard.scanBudget
    /// The longest `cat-file --batch` header line read (an object name, its type and size, and its path).
    static let longestHeader = 8192

    let directory: URL
    private var objectsPath: String { directory.appendingPathComponent("objects").path }
    private var verdictPath: String { directory.appendingPathComponent("verdict").path }
    /// The read end of the objects FIFO, -1 once closed.
    private let objects: Mutex<Int32>
    private let delivered = Atomic<Bool>(false)

    /// Why the FIFOs could not be made.
    struct Failure: Error {
        var operation: String
        var code: Int32
    }

    /// What the hook's stream held.
    struct Collected: Sendable {
        var scanner: TokenCandidateScanner
        /// Per object that added candidates: the index of its first new candidate and what it was, for the refusal.
        var locations: [(firstCandidate: Int, description: String)]
        /// Whether some of the push was not scanned (over budget).
        var truncated: Bool
    }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-scan-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let objectsPath = directory.appendingPathComponent("objects").path
        guard mkfifo(objectsPath, 0o600) == 0, mkfifo(directory.appendingPathComponent("verdict").path, 0o600) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(at: directory)
            throw Failure(operation: "mkfifo", code: code)
        }
        // Non-blocking, so opening never waits for a hook that may never run.
        let descriptor = open(objectsPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            try? FileManager.default.removeItem(at: directory)
            throw Failure(operation: "open", code: code)
        }
        objects = Mutex(descriptor)
    }

    deinit {
        closeObjects()
        // A hook still waiting for its verdict is told to refuse; one that has not opened the FIFO yet finds it gone and refuses.
        if !delivered.load(ordering: .sequentiallyConsistent) { _ = writeVerdict(Self.unchecked) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The CGI variable that tells the hook where to stream.
    var environment: [String: String] { [Self.variable: directory.path] }

    static let unchecked = "refuse\nthe push could not be checked for leaked tokens; try again\n"

    /// Reads the hook's objects, looks the candidates up through `guard`, and answers the hook; returns when the hook has its
    /// verdict or `ended` says git is gone.
    func serve(ended: CompletionFlag, leaks: LeakedTokenGuard, project: Project, authorID: Int64?) async {
        guard let collected = await collect(ended: ended) else { return }
        if collected.truncated {
            leaks.environment.logger.warning("push larger than the token scan budget; the rest was not scanned", metadata: ["project": "\(project.fullPath)"])
        }
        var verdict = "ok\n"
        do {
            let live = try await leaks.revokeLive(
                collected.scanner.candidates, overflowed: collected.scanner.overflowed, surface: .gitPush, project: project, authorID: authorID)
            if !live.isEmpty {
                let places = Set(live.compactMap { index in collected.locations.last { $0.firstCandidate <= index }?.description })
                let named = places.sorted().prefix(3).joined(separator: ", ")
                verdict = "refuse\nThe push contains a live access token (\(named)), which has been revoked.\n"
                    + "Remove it from the commits (rewrite them, e.g. git commit --amend or git rebase -i) and push again.\n"
            }
        } catch {
            leaks.environment.logger.error("cannot check a push for leaked tokens", metadata: ["project": "\(project.fullPath)", "error": "\(error)"])
            verdict = Self.unchecked
        }
        await deliver(verdict, ended: ended)
    }

    /// The objects the hook streamed, or nil when no hook ran before git ended.
    func collect(ended: CompletionFlag) async -> Collected? {
        var parser = BatchParser()
        var connected = false
        while true {
            let chunk: ReadResult
            do {
                chunk = try await Git.pool.runIfActive { self.read() }
            } catch {
                return nil
            }
            switch chunk {
            case .bytes(let bytes):
                connected = true
                if !parser.feed(bytes) {
                    // Over budget or a stream we cannot follow: stop reading, so the hook's writer fails and it goes on.
                    closeObjects()
                    parser.finish()
                    return parser.collected
                }
            case .end:
                parser.finish()
                return parser.collected
            case .idle:
                if ended.isSet { return connected ? parser.collected : nil }
            }
        }
    }

    private enum ReadResult { case bytes([UInt8]), end, idle }

    /// One read from the FIFO, waiting at most 200 ms for the hook.
    private func read() -> ReadResult {
        objects.withLock { descriptor in
            guard descriptor >= 0 else { return .end }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 200) > 0 else { return .idle }
            // Linux reports POLLHUP only once a writer has come and gone, never before the hook opened the FIFO.
            if entry.revents & Int16(POLLIN) == 0 { return entry.revents & Int16(POLLHUP | POLLERR) != 0 ? .end : .idle }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 { return .bytes(Array(buffer[..<count])) }
            if count == 0 { return .end }
            return errno == EAGAIN || errno == EINTR ? .idle : .end
        }
    }

    private func closeObjects() {
        objects.withLock { descriptor in
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
        }
    }

    /// Hands the verdict to the hook once it listens (it opens the FIFO right after its objects), unless git ends first.
    func deliver(_ verdict: String, ended: CompletionFlag) async {
        while !delivered.load(ordering: .sequentiallyConsistent) {
            if writeVerdict(verdict) { return }
            if ended.isSet { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Writes the verdict if the hook has the FIFO open for reading; a verdict is shorter than PIPE_BUF, so it is written whole.
    private func writeVerdict(_ verdict: String) -> Bool {
        let descriptor = open(verdictPath, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let bytes = Array(verdict.utf8.prefix(4000))
        let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { return false }
        delivered.store(true, ordering: .sequentiallyConsistent)
        return true
    }

    /// Follows `git cat-file --batch='%(objectname) %(objecttype) %(objectsize) %(rest)'` output, scanning each object as one document.
    struct BatchParser {
        var collected = Collected(scanner: TokenCandidateScanner(), locations: [], truncated: false)
        private var header: [UInt8] = []
        private var remaining = 0
        private var inContent = false
        private var afterContent = false
        private var description = ""
        private var candidatesBefore = 0
        private var scanned = 0

        /// False when reading should stop (the budget is spent, or the stream is not what the hook writes).
        mutating func feed(_ bytes: [UInt8]) -> Bool {
            var index = 0
            while index < bytes.count {
                if inContent {
                    let take = min(remaining, bytes.count - index)
                    let allowed = min(take, PushTokenScan.budget - scanned)
                    collected.scanner.scan(bytes[index..<(index + allowed)])
                    scanned += allowed
                    index += take
                    remaining -= take
                    if allowed < take {
                        collected.truncated = true
                        return false
                    }
                    if remaining == 0 {
                        endObject()
                        inContent = false
                        afterContent = true
                    }
                    continue
                }
                let byte = bytes[index]
                index += 1
                if afterContent {
                    afterContent = false
                    if byte == 0x0A { continue }
                    return false
                }
                guard byte == 0x0A else {
                    header.append(byte)
                    if header.count > PushTokenScan.longestHeader { return false }
                    continue
                }
                let fields = String(decoding: header, as: UTF8.self).split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                header.removeAll(keepingCapacity: true)
                if fields.count == 1, fields[0] == "end" { return true }
                // `<name> missing` (cannot happen for names rev-list gave) carries no content.
                guard fields.count >= 3, let size = Int(fields[2]), size >= 0 else {
                    if fields.count == 2, fields[1] == "missing" { continue }
                    return false
                }
                let sha = String(fields[0].prefix(12))
                let path = fields.count > 3 ? String(fields[3]) : ""
                switch fields[1] {
                case "commit": description = "commit \(sha)"
                case "tag": description = "tag object \(sha)"
                case "tree": description = path.isEmpty ? "a tree of the pushed commits" : "the file names under \(path)"
                default: description = path.isEmpty ? "blob \(sha)" : "\(path) in the pushed commits"
                }
                candidatesBefore = collected.scanner.candidates.count
                remaining = size
                inContent = true
                if size == 0 {
                    endObject()
                    inContent = false
                    afterContent = true
                }
            }
            return true
        }

        private mutating func endObject() {
            collected.scanner.endDocument()
            if collected.scanner.candidates.count > candidatesBefore {
                collected.locations.append((candidatesBefore, description))
            }
        }

        /// The stream ended: a partly read object still counts as one document.
        mutating func finish() {
            if inContent { endObject() }
            inContent = false
        }
    }
}

extension PushTokenScan {
    /// The part of the `pre-receive` hook that streams the pushed objects and applies the verdict; `$input` holds the hook's
    /// standard input and `$zero` the null object name.
    static var hookSection: String {
        """
        if [ -n "$\(variable)" ]; then
          (
            printf '%s\\n' "$input" | while read -r old new ref; do [ "$new" = "$zero" ] || echo "$new"; done \\
              | git rev-list --objects --stdin --not --all --filter=blob:limit=\(largestBlob) 2>/dev/null \\
              | git cat-file --batch='%(objectname) %(objecttype) %(objectsize) %(rest)' 2>/dev/null
            echo end
          ) > "$\(variable)/objects" 2>/dev/null
          verdict=$(cat "$\(variable)/verdict" 2>/dev/null)
          if [ "$verdict" != ok ]; then
            message=$(printf '%s\\n' "$verdict" | sed -n '2,$p')
            [ -n "$message" ] || message="the push could not be checked for leaked tokens; try again"
            printf '%s\\n' "$message" | sed 's/^/GitLab: /' >&2
            exit 1
          fi
        fi
        """
    }
}
