import Foundation
import Hummingbird
import NIOCore

/// Streams the file part of a multipart/form-data upload to disk without holding it in memory.
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

    /// Reads `body`, writes the part named `field` to `destination`, and skips every other part.
    func receive(_ body: RequestBody, field: String, to destination: URL) async throws -> Received {
        let delimiter = Array(("\r\n--" + boundary).utf8)
        try FileManager.default.createPrivateFile(at: destination)
        let handle = try FileHandle(forWritingTo: destination)
        defer { try? handle.close() }
        // The stream is read as if preceded by CRLF, so the first delimiter looks like every other one.
        var buffer: [UInt8] = [13, 10]
        var state = State.preamble
        var received: Received?
        var written: Int64 = 0

        func process(final: Bool) throws {
            while true {
                switch state {
                case .preamble, .skipping:
                    guard let index = buffer.firstRange(of: delimiter) else {
                        // Keep only what could still start a delimiter.
                        if buffer.count > delimiter.count { buffer.removeFirst(buffer.count - delimiter.count) }
                        return
                    }
                    buffer.removeFirst(index.upperBound)
                    state = .afterDelimiter
                case .afterDelimiter:
                    guard buffer.count >= 2 else { return }
                    if buffer[0] == 45, buffer[1] == 45 { state = .done; return }
                    guard let end = buffer.firstRange(of: [13, 10, 13, 10]) else {
                        if buffer.count > 16 * 1024 { throw Failure.malformed }
                        return
                    }
                    let head = String(decoding: buffer[2..<end.lowerBound], as: UTF8.self)
                    buffer.removeFirst(end.upperBound)
                    let disposition = Self.disposition(head)
                    if disposition.name == field, received == nil {
                        received = Received(name: field, filename: disposition.filename, size: 0)
                        state = .file
                    } else {
                        state = .skipping
                    }
                case .file:
                    if let index = buffer.firstRange(of: delimiter) {
                        try write(buffer[..<index.lowerBound])
                        buffer.removeFirst(index.upperBound)
                        state = .afterDelimiter
                    } else {
                        let safe = buffer.count - delimiter.count
                        if safe > 0 {
                            try write(buffer[..<safe])
                            buffer.removeFirst(safe)
                        }
                        return
                    }
                case .done:
                    buffer.removeAll()
                    return
                }
            }
        }

        func write(_ bytes: ArraySlice<UInt8>) throws {
            written += Int64(bytes.count)
            guard written <= limit else { throw Failure.tooLarge }
            try handle.write(contentsOf: bytes)
        }

        for try await chunk in body {
            buffer.append(contentsOf: chunk.readableBytesView)
            try process(final: false)
        }
        try process(final: true)
        guard var result = received else { throw Failure.noFile }
        guard state == .done || state == .afterDelimiter || state == .skipping else { throw Failure.malformed }
        result.size = written
        return result
    }

    private enum State { case preamble, afterDelimiter, file, skipping, done }

    static func disposition(_ head: String) -> (name: String?, filename: String?) {
        var name: String?
        var filename: String?
        for line in head.split(whereSeparator: \.isNewline) where line.lowercased().hasPrefix("content-disposition") {
            for item in line.split(separator: ";").dropFirst() {
                let pair = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                if pair[0] == "name" { name = value }
                if pair[0] == "filename" { filename = value }
            }
        }
        return (name, filename)
    }
}
