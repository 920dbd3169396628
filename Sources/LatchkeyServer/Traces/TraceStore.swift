import Foundation
import LatchkeyCore

/// Job traces as files under the data directory (`traces/<job id>.log`), appended as chunks arrive.
public struct TraceStore: Sendable {
    public let root: URL

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

    /// The whole stored trace (empty when nothing arrived yet).
    func read(jobID: Int64) -> Data { FileManager.default.contents(atPath: url(jobID: jobID).path) ?? Data() }

    func remove(jobID: Int64) { try? FileManager.default.removeItem(at: url(jobID: jobID)) }
}
