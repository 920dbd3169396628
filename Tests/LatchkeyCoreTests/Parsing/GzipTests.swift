import Foundation
import Testing

@testable import LatchkeyCore

@Suite("gzip reports")
struct GzipTests {
    @Test("members written one per file read back in order, as gitlab-runner concatenates them")
    func roundTrip() throws {
        let stream = Gzip.member(name: ".env", data: Array("A=1\n".utf8)) + Gzip.member(name: "b.env", data: Array("B=2".utf8))
        #expect(try Gzip.members(stream, limit: 100) == [Array("A=1\n".utf8), Array("B=2".utf8)])
        #expect(try Gzip.members(Gzip.member(name: "empty", data: []), limit: 100) == [[]])
    }

    @Test("what gzip(1) writes is read, and gzip(1) reads what we write")
    func systemGzip() throws {
        let text = Array("URL=https://example.com\n".utf8)
        let compressed = try Subprocess.run(["/bin/gzip", "-9", "-c"], environment: [:], input: text)
        #expect(compressed.status == 0)
        #expect(try Gzip.members(compressed.output, limit: 100) == [text])
        let ours = Gzip.member(name: ".env", data: text) + Gzip.member(name: "b.env", data: text)
        let decompressed = try Subprocess.run(["/bin/gzip", "-d", "-c"], environment: [:], input: ours)
        #expect(decompressed.status == 0 && decompressed.output == text + text)
    }

    @Test("a decompression bomb stops at the limit")
    func bomb() {
        let bomb = Gzip.member(name: "x", data: [UInt8](repeating: 65, count: 10_000_000))
        #expect(bomb.count < 20_000)
        #expect(throws: Gzip.Failure.tooLarge) { try Gzip.members(bomb, limit: 5119) }
    }

    @Test("not gzip, truncated, a corrupt checksum or trailing bytes are refused")
    func malformed() {
        let good = Gzip.member(name: ".env", data: Array("A=1\nB=2\n".utf8))
        var corrupt = good
        corrupt[corrupt.count - 6] ^= 0xFF
        for input in [[], Array("A=1\n".utf8), Array(good.dropLast(3)), Array(good.prefix(12)), corrupt, good + [0, 1, 2], good + [0x1F, 0x8B]] {
            #expect(throws: Gzip.Failure.malformed) { try Gzip.members(input, limit: 5119) }
        }
    }
}
