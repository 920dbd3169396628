import Testing

@testable import LatchkeyCore

@Suite("Reading multipart/form-data")
struct MultipartParserTests {
    static let body = Array(
        ("preamble\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue a\r\n"
            + "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x;y.zip\"\r\nContent-Type: application/zip\r\n\r\nPK\r\n--\r\n-bytes\r\n"
            + "--b--\r\nepilogue").utf8)

    /// The parts of `events`, as (head, body).
    static func parts(_ events: [MultipartParser.Event]) -> [(MultipartParser.PartHead, [UInt8])] {
        var parts: [(MultipartParser.PartHead, [UInt8])] = []
        for event in events {
            switch event {
            case .part(let head): parts.append((head, []))
            case .bytes(let bytes): parts[parts.count - 1].1 += bytes
            case .partEnd: break
            }
        }
        return parts
    }

    @Test("parts come out with their names, filenames and exact bodies, whatever the chunking")
    func parts() throws {
        for size in [1, 2, 3, 5, 7, 64, Self.body.count] {
            var parser = MultipartParser(boundary: "b")
            var events: [MultipartParser.Event] = []
            var index = 0
            while index < Self.body.count {
                events += try parser.feed(Self.body[index..<min(index + size, Self.body.count)])
                index += size
            }
            try parser.finish()
            let parts = Self.parts(events)
            #expect(parts.count == 2, "chunk size \(size)")
            #expect(parts.first?.0 == MultipartParser.PartHead(name: "a"))
            #expect(parts.first?.1 == Array("value a".utf8))
            #expect(parts.last?.0 == MultipartParser.PartHead(name: "file", filename: "x;y.zip", contentType: "application/zip"))
            #expect(parts.last?.1 == Array("PK\r\n--\r\n-bytes".utf8))
        }
    }

    @Test("a part with no headers at all is a part without a name, not a crash (issue 10)")
    func emptyPartHeader() throws {
        let events = try MultipartParser.events(of: Array("--b\r\n\r\nx\r\n--b--".utf8), boundary: "b")
        #expect(events == [.part(MultipartParser.PartHead()), .bytes(Array("x".utf8)), .partEnd])
    }

    @Test(
        "malformed bodies end in a failure",
        arguments: [
            "", "--b", "--b\r\n", "--b\r\n\r\nx", "--b\r\n\r\nx\r\n--b", "--bX\r\n\r\nx\r\n--b--", "no delimiter at all",
            "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nx\r\n--b--", "--b\r\n\r\nx\r\n--b\r",
        ]
    )
    func malformed(_ text: String) {
        #expect(throws: MultipartParser.Failure.self) { try MultipartParser.events(of: Array(text.utf8), boundary: "b") }
    }

    @Test("headers longer than the limit and too many parts are refused")
    func limits() {
        let long = "--b\r\nX-Padding: " + String(repeating: "a", count: MultipartParser.maximumHeaderBytes) + "\r\n\r\nx\r\n--b--"
        #expect(throws: MultipartParser.Failure.headersTooLarge) { try MultipartParser.events(of: Array(long.utf8), boundary: "b") }
        let many = String(repeating: "--b\r\n\r\nx\r\n", count: 11) + "--b--"
        #expect(throws: MultipartParser.Failure.tooManyParts) { try MultipartParser.events(of: Array(many.utf8), boundary: "b", maximumParts: 10) }
    }

    @Test("the boundary comes from a multipart/form-data content type, quoted or not, 1 to 70 characters")
    func boundary() {
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartParser.boundary(contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b\"") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=\"AbC\"") == "AbC")
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=\"\"") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=" + String(repeating: "x", count: 71)) == nil)
        #expect(MultipartParser.boundary(contentType: "text/plain; boundary=abc") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data") == nil)
    }

    @Test("Content-Disposition parameters keep quoted semicolons, escaped quotes and Windows backslashes")
    func dispositionParameters() {
        let head = MultipartParser.partHead(ArraySlice(Array("content-disposition: form-data; name=\"a\\\"b\"; filename=\"C:\\dir\\f.zip\"".utf8)))
        #expect(head.name == "a\"b")
        #expect(head.filename == "C:\\dir\\f.zip")
    }

    @Test("random and mutated bodies, in random chunks, end in parts or a failure, never a trap")
    func fuzz() {
        var generator = SplitMix64(seed: 18)
        let pieces: [[UInt8]] = ["--b", "\r\n", "\r", "\n", "--", "-", "b", "x", " ", "\r\n\r\n", "Content-Disposition: form-data; name=\"file\"", ";", "\""]
            .map { Array($0.utf8) }
        for round in 0..<5_000 {
            var body: [UInt8]
            if round % 2 == 0 {
                body = (0..<Int(generator.next() % 30)).flatMap { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }
            } else {
                // Mutations of a valid body: flipped, dropped and inserted bytes.
                body = Self.body
                for _ in 0..<Int(1 + generator.next() % 4) {
                    let at = Int(generator.next() % UInt64(body.count))
                    switch generator.next() % 3 {
                    case 0: body[at] = UInt8(truncatingIfNeeded: generator.next())
                    case 1: body.remove(at: at)
                    default: body.insert(contentsOf: pieces[Int(generator.next() % UInt64(pieces.count))], at: at)
                    }
                }
            }
            var parser = MultipartParser(boundary: "b", maximumParts: 8)
            var index = 0
            var failed = false
            while index < body.count, !failed {
                let size = Int(1 + generator.next() % 16)
                do { _ = try parser.feed(body[index..<min(index + size, body.count)]) } catch { failed = true }
                index += size
            }
            if !failed { _ = try? parser.finish() }
        }
    }
}
