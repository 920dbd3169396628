import Foundation
import Testing

@testable import LatchkeyCore

@Suite("TokenCandidateScanner")
struct TokenCandidateScannerTests {
    static let opaque = "glcbt-" + String(repeating: "Ab3_-", count: 8) + "xyz"
    static let personal = "glpat-" + String(repeating: "Q9wz", count: 11)
    static let jwt = "glcbt-eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJnaWQ6Ly9naXRsYWIvQ2k6OkJ1aWxkLzEifQ.c2lnbmF0dXJlX2J5dGVzX2hlcmU"

    private func found(_ bytes: [UInt8], chunk: Int = .max) -> [String] {
        var scanner = TokenCandidateScanner()
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + chunk)
            scanner.scan(bytes[index..<end])
            index = end
        }
        scanner.endDocument()
        return scanner.candidates
    }

    private func found(_ text: String, chunk: Int = .max) -> [String] { found(Array(text.utf8), chunk: chunk) }

    private static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    @Test("a token written as is is a candidate, whole, with and without a sentence's closing dot or a file extension, in any chunking", arguments: [1, 3, 7, 4096])
    func plain(chunk: Int) {
        for token in [Self.opaque, Self.personal, Self.jwt] {
            #expect(found("export TOKEN=\(token)\n", chunk: chunk).first == token)
            #expect(found("my token is \(token).", chunk: chunk).contains(token))
            #expect(found("url: https://x/?private_token=\(token)&a=b", chunk: chunk).first == token)
            #expect(found("notes/\(token).txt", chunk: chunk).contains(token), "a file named after the token")
            #expect(found("\(token).tar.gz.sha256", chunk: chunk).contains(token))
        }
    }

    @Test("percent-encoded, UTF-16 and hex forms are decoded to the token")
    func textEncodings() {
        let token = Self.personal
        let everyByteEscaped = token.utf8.map { String(format: "%%%02X", $0) }.joined()
        #expect(found("q=\(everyByteEscaped)&x").contains(token))
        #expect(found("glpat%2D" + token.dropFirst(6)).contains(token))
        let utf16 = Array(token.utf16).flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
        #expect(found([0xFF, 0xFE] + utf16 + [0x0A, 0]).contains(token))
        let hex = token.utf8.map { String(format: "%02x", $0) }.joined()
        #expect(found("x \(hex) y").contains(token))
        #expect(found("x1\(hex.uppercased())\n").contains(token), "at the other digit alignment")
        let wrapped = stride(from: 0, to: hex.count, by: 60).map { String(hex.dropFirst($0).prefix(60)) }.joined(separator: "\n")
        #expect(found(wrapped + "\n").contains(token), "xxd -p wraps at 60 columns")
    }

    @Test("base64 at every byte alignment and every character alignment, standard, URL-safe, line-wrapped and twice encoded")
    func base64() {
        let token = Array(Self.opaque.utf8)
        for leading in 0..<3 {
            let data = Array("x: ".utf8.prefix(leading)) + token + [0x0A]
            let standard = Self.base64(data)
            #expect(found("Authorization: Basic \(standard)").contains(Self.opaque), "\(leading)")
            let urlSafe = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            #expect(found("\"\(urlSafe)\"").contains(Self.opaque))
            for glued in ["a", "ab", "abc"] {
                #expect(found("path/\(glued)\(standard)").contains(Self.opaque), "\(leading) after \(glued)")
            }
            let wrapped = stride(from: 0, to: standard.count, by: 76).map { String(standard.dropFirst($0).prefix(76)) }.joined(separator: "\r\n")
            #expect(found(wrapped).contains(Self.opaque))
            #expect(found(Self.base64(Array(standard.utf8) + [0x0A])).contains(Self.opaque), "base64 | base64")
        }
    }

    @Test("no piece of a run is proposed, short bodies are not candidates, other prefixes are ignored")
    func onlyWholeRuns() {
        #expect(found(Self.opaque + "tail") == [Self.opaque + "tail"])
        #expect(found("glpat-tooShort and glpat-") == [])
        #expect(found("glrt-" + String(repeating: "a", count: 40)) == [])
        #expect(found("glpat-\(Self.opaque)") == ["glpat-\(Self.opaque)", Self.opaque], "a prefix inside a run starts its own candidate")
        let long = "glpat-" + String(repeating: "a", count: TokenCandidateScanner.maximumTokenLength)
        #expect(found(long) == [], "longer than any token")
    }

    @Test("work is linear and candidates bounded on hostile input: a megabyte of prefixes, of base64 and of hex")
    func hostileInput() {
        let repeated = String(repeating: "glpat-", count: 200_000)
        #expect(found(repeated).count <= TokenCandidateExtractor.maximumStartsPerRun * 2)
        var many = ""
        for index in 0..<1000 { many += "glpat-\(String(repeating: "b", count: 20))\(index) " }
        var scanner = TokenCandidateScanner(limit: 100)
        scanner.scan(many.utf8)
        scanner.endDocument()
        #expect(scanner.candidates.count == 100 && scanner.overflowed)
        let blob = Self.base64(Array(repeating: Array(Self.personal.utf8) + [0x20], count: 20_000).flatMap { $0 })
        #expect(found(blob) == [Self.personal])
    }

    @Test("documents are separate: a token is never glued from the end of one and the start of the next")
    func documents() {
        var scanner = TokenCandidateScanner()
        scanner.scan("glpat-".utf8)
        scanner.endDocument()
        scanner.scan(Self.personal.dropFirst(6).utf8)
        scanner.endDocument()
        #expect(scanner.candidates.isEmpty)
    }

    /// RFC 4648 base32, as coreutils' `base32` writes it.
    private static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var output = ""
        var bits = 0
        var value = 0
        for byte in bytes {
            value = value << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(value >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(value << (5 - bits)) & 31]) }
        while output.count % 8 != 0 { output.append("=") }
        return output
    }

    @Test("base32 at every byte alignment, wrapped at 76 columns as base32 writes it, either case")
    func base32() {
        for token in [Self.opaque, Self.personal, Self.jwt] {
            for leading in 0..<5 {
                let encoded = Self.base32(Array("x: a".utf8.prefix(leading)) + Array(token.utf8) + [0x0A])
                #expect(found("echo \(encoded) | base32 -d").contains(token), "\(leading)")
                let wrapped = stride(from: 0, to: encoded.count, by: 76).map { String(encoded.dropFirst($0).prefix(76)) }.joined(separator: "\n")
                #expect(found(wrapped + "\n").contains(token), "\(leading) wrapped")
                #expect(found(encoded.lowercased()).contains(token), "\(leading) lowercase")
            }
        }
    }

    @Test("JSON and JavaScript escapes of every character, or of some, are decoded; an escape of something else breaks the run")
    func escapes() {
        let token = Self.personal
        let everyCharacter = token.utf8.map { String(format: "\\u%04x", $0) }.joined()
        #expect(found("{\"token\": \"\(everyCharacter)\"}").contains(token))
        #expect(found("\\u0067lpat-" + token.dropFirst(6)).contains(token))
        #expect(found("'\\x67\\x6cpat-" + token.dropFirst(6) + "'").contains(token))
        #expect(found("\\u00e9" + token + "\\u00e9").contains(token))
        #expect(!found("glpat-\\u00e9" + token.dropFirst(6)).contains(token), "a non-ASCII escape inside is not part of a token")
        #expect(found("\\u00").isEmpty && found("\\").isEmpty && found("\\uZZZZ").isEmpty)
    }
}
