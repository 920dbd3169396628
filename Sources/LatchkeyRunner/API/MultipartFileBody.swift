import Foundation
import NIOCore

/// A `multipart/form-data` body with one file part, read from disk in chunks as it is sent.
struct MultipartFileBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let fileURL: URL
    let boundary: String
    let head: [UInt8]
    let tail: [UInt8]
    let fileSize: Int
    static let chunkSize = 256 << 10

    init(fileURL: URL, fieldName: String, filename: String, contentType: String) throws {
        self.fileURL = fileURL
        self.boundary = "latchkey-" + UUID().uuidString
        let head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(fieldName)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n"
        self.head = Array(head.utf8)
        self.tail = Array("\r\n--\(boundary)--\r\n".utf8)
        let attributes = try FileManager.default.attributesOfItem(atPath: fileURL.path)
        self.fileSize = (attributes[.size] as? NSNumber)?.intValue ?? 0
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }
    var length: Int { head.count + fileSize + tail.count }

    func makeAsyncIterator() -> Iterator { Iterator(body: self) }

    struct Iterator: AsyncIteratorProtocol {
        let body: MultipartFileBody
        var phase = 0
        var handle: FileHandle?

        mutating func next() async throws -> ByteBuffer? {
            while true {
                switch phase {
                case 0:
                    phase = 1
                    return ByteBuffer(bytes: body.head)
                case 1:
                    if handle == nil { handle = try FileHandle(forReadingFrom: body.fileURL) }
                    if let data = try handle?.read(upToCount: MultipartFileBody.chunkSize), !data.isEmpty {
                        return ByteBuffer(bytes: data)
                    }
                    try handle?.close()
                    handle = nil
                    phase = 2
                case 2:
                    phase = 3
                    return ByteBuffer(bytes: body.tail)
                default:
                    return nil
                }
            }
        }
    }
}
