import Foundation
import NIOCore
import Testing

@testable import LatchkeyRunner

@Suite("HTTP plumbing")
struct HTTPPlumbingTests {
    @Test("The multipart body streams the file between one part header and the closing boundary, with the announced length")
    func multipartBody() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let file = fixtures.directory.appendingPathComponent("artifacts.zip")
        let content = Data((0..<(600 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try content.write(to: file)
        let body = try MultipartFileBody(fileURL: file, fieldName: "file", filename: "artifacts.zip", contentType: "application/zip")
        var bytes: [UInt8] = []
        var chunks = 0
        for try await buffer in body {
            bytes += buffer.readableBytesView
            chunks += 1
        }
        #expect(chunks > 3)
        #expect(bytes.count == body.length)
        let head = "--\(body.boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"artifacts.zip\"\r\nContent-Type: application/zip\r\n\r\n"
        #expect(bytes.starts(with: Array(head.utf8)))
        #expect(Array(bytes[head.utf8.count..<(head.utf8.count + content.count)]) == Array(content))
        #expect(String(decoding: bytes.suffix(body.boundary.utf8.count + 8), as: UTF8.self) == "\r\n--\(body.boundary)--\r\n")
        #expect(body.contentType == "multipart/form-data; boundary=\(body.boundary)")
    }

    @Test("The server's trace size is read from GitLab's Range header", arguments: [("0-1234", 1234), ("0-0", 0), ("bytes 0-99", 99), ("", nil), ("garbage", nil)])
    func rangeHeader(header: String, size: Int?) {
        #expect(TracePatchResponse.size(fromRange: header) == size)
    }
}
