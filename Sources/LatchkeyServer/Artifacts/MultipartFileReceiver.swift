import Foundation
import Hummingbird
import LatchkeyCore
import NIOCore

/// Streams the file part of a multipart/form-data upload to disk without holding it in memory, through `MultipartParser`.
struct MultipartFileReceiver {
    enum Failure: Error, Equatable {
        case malformed
        case tooLarge
        case noFile
    }

    /// The stored file part.
    struct Received {
        var name: String
        var filename: String?
        var size: Int64
    }

    let boundary: String
    let limit: Int64

    /// Reads `body`, writes the first part named `field` to `destination`, and skips every other part.
    func receive<Body: AsyncSequence>(_ body: Body, field: String, to destination: URL) async throws -> Received where Body.Element == ByteBuffer {
        try FileManager.default.createPrivateFile(at: destination)
        let handle = try FileHandle(forWritingTo: destination)
        defer { try? handle.close() }
        var parser = MultipartParser(boundary: boundary)
        var received: Received?
        var writing = false
        var written: Int64 = 0

        func apply(_ events: [MultipartParser.Event]) throws {
            for event in events {
                switch event {
                case .part(let head):
                    writing = head.name == field && received == nil
                    if writing { received = Received(name: field, filename: head.filename, size: 0) }
                case .bytes(let bytes) where writing:
                    written += Int64(bytes.count)
                    guard written <= limit else { throw Failure.tooLarge }
                    try handle.write(contentsOf: bytes)
                case .bytes:
                    continue
                case .partEnd:
                    writing = false
                }
            }
        }

        do {
            for try await chunk in body {
                try apply(try parser.feed(chunk.readableBytesView))
            }
            try parser.finish()
        } catch is MultipartParser.Failure {
            throw Failure.malformed
        }
        guard var result = received else { throw Failure.noFile }
        result.size = written
        return result
    }
}
