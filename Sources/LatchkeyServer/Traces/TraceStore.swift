import Foundation
import LatchkeyCore

/// Job traces as files under the data directory (`traces/<job id>.log`), appended as chunks arrive.
public struct TraceStore: Sendable {
    public let root: URL
    /// One append-then-commit per job at a time, so a lost commit can take back exactly its own bytes.
    private let gate = TraceGate()

    public init(root: URL) { self.root = root }

    func prepare() throws { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) }

    func url(jobID: Int64) -> URL { root.appendingPathComponent("\(jobID).log") }

    /// Appends bytes (already masked) to the job's trace.
    func append(jobID: Int64, _ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        let url = url(jobID: jobID)
        if !FileManager.default.fileExists(atPath: url.path) {
            try FileManager.default.createPrivateFile(at: url)
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: bytes)
    }

    /// Appends `bytes`, then runs `commit` (which advances the stored offset); takes the bytes back when `commit` does not happen.
    ///
    /// Bytes go to disk before the offset moves: a crash in between leaves bytes the offset does not count, which the
    /// runner sends again (a repeated chunk at worst), never an offset past bytes that were never written (a lost chunk).
    func append(jobID: Int64, _ bytes: [UInt8], thenCommit commit: @Sendable () async throws -> Bool) async throws -> Bool {
        try await gate.exclusive(jobID) {
            let url = url(jobID: jobID)
            let before = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.uint64Value ?? 0
            let committed: Bool
            do {
                try append(jobID: jobID, bytes)
                committed = try await commit()
            } catch {
                truncate(url, to: before)
                throw error
            }
            if !committed {
                truncate(url, to: before)
            } else {
                ServerMetrics.traceBytes(bytes.count)
                flushNotices(jobID: jobID, force: false)
            }
            return committed
        }
    }

    private func truncate(_ url: URL, to size: UInt64) {
        guard let handle = try? FileHandle(forWritingTo: url) else { return }
        defer { try? handle.close() }
        try? handle.truncate(atOffset: size)
    }

    /// Queues a line of the server's own (a job token refusal) for the job's trace.
    ///
    /// It is not written at once: the runner's output arrives in chunks, and the server-side masker may hold back the end of a
    /// line, so writing now could split a line of the job's output in two. `flushNotices` writes the queue where a line ends.
    func appendNotice(jobID: Int64, _ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        let url = noticesURL(jobID: jobID)
        if !FileManager.default.fileExists(atPath: url.path) { try FileManager.default.createPrivateFile(at: url) }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: bytes)
    }

    /// Writes the queued notices at the end of the trace, when it stands at the end of a line (or always, with `force`, once the
    /// job has sent its last byte). The queue is renamed before it is read, so a notice queued meanwhile waits for the next flush.
    func flushNotices(jobID: Int64, force: Bool) {
        let queue = noticesURL(jobID: jobID)
        guard FileManager.default.fileExists(atPath: queue.path), force || endsLine(jobID: jobID) else { return }
        let taken = root.appendingPathComponent("\(jobID).notices.\(UUID().uuidString)")
        guard rename(queue.path, taken.path) == 0 else { return }
        defer { try? FileManager.default.removeItem(at: taken) }
        guard let bytes = FileManager.default.contents(atPath: taken.path) else { return }
        try? append(jobID: jobID, Array(bytes))
    }

    /// `flushNotices` between two trace PATCHes of the job, never in the middle of one; for a trace at rest (nothing held back).
    func flushNoticesBetweenChunks(jobID: Int64) async {
        try? await gate.exclusive(jobID) { flushNotices(jobID: jobID, force: false) }
    }

    /// Whether the trace is empty or its last byte ends a line.
    private func endsLine(jobID: Int64) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url(jobID: jobID)) else { return true }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size > 0 else { return true }
        try? handle.seek(toOffset: size - 1)
        return (try? handle.read(upToCount: 1))?.first == 0x0A
    }

    private func noticesURL(jobID: Int64) -> URL { root.appendingPathComponent("\(jobID).notices") }

    /// The whole stored trace (empty when nothing arrived yet).
    func read(jobID: Int64) -> Data { FileManager.default.contents(atPath: url(jobID: jobID).path) ?? Data() }

    func remove(jobID: Int64) {
        try? FileManager.default.removeItem(at: url(jobID: jobID))
        try? FileManager.default.removeItem(at: noticesURL(jobID: jobID))
    }
}

/// Runs one body per job id at a time.
actor TraceGate {
    private var busy: Set<Int64> = []
    private var waiters: [Int64: [CheckedContinuation<Void, Never>]] = [:]

    func exclusive<T: Sendable>(_ jobID: Int64, _ body: @Sendable () async throws -> T) async throws -> T {
        if busy.contains(jobID) {
            await withCheckedContinuation { waiters[jobID, default: []].append($0) }
        } else {
            busy.insert(jobID)
        }
        defer {
            if var queue = waiters[jobID], !queue.isEmpty {
                queue.removeFirst().resume()
                waiters[jobID] = queue.isEmpty ? nil : queue
            } else {
                busy.remove(jobID)
                waiters[jobID] = nil
            }
        }
        return try await body()
    }
}
