import Foundation
import LatchkeyTestSupport
import Synchronization
import Testing

@testable import LatchkeyServer

/// Trace bytes reach the disk before the offset that acknowledges them, and a commit that does not happen takes them back (issue 10).
@Suite("Trace write order")
struct TraceWriteOrderTests {
    static func store() throws -> (TraceStore, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-traces-\(UUID().uuidString)")
        let store = TraceStore(root: root)
        try store.prepare()
        return (store, root)
    }

    @Test("the commit runs with the bytes already on disk; a refused or failed commit leaves the trace as it was")
    func bytesBeforeOffset() async throws {
        let (store, root) = try Self.store()
        defer { try? FileManager.default.removeItem(at: root) }
        try store.append(jobID: 7, Array("first\n".utf8))
        let seen = try await store.append(jobID: 7, Array("second\n".utf8)) {
            // What a crash right now would leave: the bytes, with the offset not yet moved.
            String(decoding: store.read(jobID: 7), as: UTF8.self) == "first\nsecond\n"
        }
        #expect(seen, "the bytes were not on disk when the offset was committed")
        #expect(try await store.append(jobID: 7, Array("lost race\n".utf8)) { false } == false)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { _ = try await store.append(jobID: 7, Array("database down\n".utf8)) { throw Refused() } }
        #expect(String(decoding: store.read(jobID: 7), as: UTF8.self) == "first\nsecond\n")
    }

    @Test("concurrent PATCHes of one chunk store it once")
    func concurrentDuplicates() async throws {
        let (store, root) = try Self.store()
        defer { try? FileManager.default.removeItem(at: root) }
        let offset = Locked(0)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await store.append(jobID: 1, Array("chunk\n".utf8)) {
                        try await Task.sleep(for: .milliseconds(1))
                        // The compare-and-set the database does: only the first commit at offset 0 wins.
                        return offset.withLock { value in
                            guard value == 0 else { return false }
                            value = 6
                            return true
                        }
                    }
                }
            }
            var won = 0
            for try await committed in group where committed { won += 1 }
            #expect(won == 1)
        }
        #expect(String(decoding: store.read(jobID: 1), as: UTF8.self) == "chunk\n")
    }
}

/// A value behind a mutex, for the test's compare-and-set.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
