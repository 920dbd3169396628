import Testing

@testable import LatchkeyCore

@Suite("dotenv reports")
struct DotenvReportTests {
    private func parse(_ text: String) throws(DotenvReport.Failure) -> [CIVariable] {
        try DotenvReport.parse(blobs: [Array(text.utf8)])
    }

    @Test("KEY=value lines, stripped, a repeated key keeping its last value in its first place, quotes kept as written")
    func lines() throws {
        let variables = try parse("BUILD_VERSION=1.2.3\n  URL = https://example.com/a?b=c \r\nBUILD_VERSION=2\nQUOTED='x y'\nEMPTY=\n")
        #expect(variables.map(\.key) == ["BUILD_VERSION", "URL", "QUOTED", "EMPTY"])
        #expect(variables.map(\.value) == ["2", "https://example.com/a?b=c", "'x y'", ""])
        #expect(variables.allSatisfy { !$0.raw })
        #expect(try parse("A=1") == [CIVariable(key: "A", value: "1")])
        #expect(try parse("") == [])
    }

    @Test("GitLab's messages for lines it refuses", arguments: [
        ("A=1\n\nB=2\n", DotenvReport.Failure.invalidFormat),
        ("# a comment\n", .invalidFormat),
        ("# A=1\n", .invalidKey),
        ("=1\n", .blankKey),
        ("MY-KEY=1\n", .invalidKey),
        ("ÜBER=1\n", .invalidKey),
        ("A=x\u{0}y\n", .invalidFormat),
        ("export A=1\n", .invalidKey),
    ])
    func refused(_ text: String, _ failure: DotenvReport.Failure) {
        #expect(throws: failure) { try parse(text) }
    }

    @Test("keys of predefined variables are refused, so an earlier job cannot redirect a later job's API or token",
        arguments: ["CI_JOB_TOKEN", "CI_API_V4_URL", "CI", "GITLAB_CI", "GITLAB_USER_LOGIN", "CI_DEBUG_TRACE"])
    func predefined(_ key: String) {
        #expect(throws: DotenvReport.Failure.predefinedKey(key)) { try parse("SAFE=1\n\(key)=x\n") }
        #expect(DotenvReport.Failure.predefinedKey(key).message.contains(key))
    }

    @Test("limits: 150 variables, keys of 255 characters, files under 5120 bytes")
    func limits() throws {
        let many = (1...150).map { "K\($0)=v" }.joined(separator: "\n")
        #expect(try parse(many).count == 150)
        #expect(throws: DotenvReport.Failure.tooManyVariables) { try parse(many + "\nK151=v") }
        #expect(DotenvReport.Failure.tooManyVariables.message == "Dotenv files cannot have more than 150 variables")
        #expect(try parse(String(repeating: "K", count: 255) + "=1").count == 1)
        #expect(throws: DotenvReport.Failure.keyTooLong) { try parse(String(repeating: "K", count: 256) + "=1") }
        let big = "A=" + String(repeating: "x", count: 5118)
        #expect(throws: DotenvReport.Failure.tooBig) { try parse(big) }
        #expect(try parse(String(big.dropLast())).count == 1)
        #expect(DotenvReport.Failure.tooBig.message == "Dotenv Artifact Too Big. Maximum Allowable Size: 5120")
    }

    @Test("UTF-16 from PowerShell and a UTF-8 BOM are read; invalid UTF-8 in a value becomes U+FFFD")
    func encodings() throws {
        let utf16: [UInt8] = [0xFF, 0xFE] + "A=1\r\n".utf16.flatMap { unit -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        #expect(try DotenvReport.parse(blobs: [utf16]) == [CIVariable(key: "A", value: "1")])
        #expect(try DotenvReport.parse(blobs: [[0xEF, 0xBB, 0xBF] + Array("B=2".utf8)]) == [CIVariable(key: "B", value: "2")])
        #expect(try DotenvReport.parse(blobs: [Array("C=".utf8) + [0xC3, 0x28]]) == [CIVariable(key: "C", value: "\u{FFFD}(")])
        #expect(throws: DotenvReport.Failure.self) { try DotenvReport.parse(blobs: [[0x00, 0x01, 0x02, 0xFF, 0x80, 0x0A]]) }
    }

    @Test("an upload: gzip members, their sizes checked before and while decompressing")
    func upload() throws {
        let report = Gzip.member(name: ".env", data: Array("A=1\n".utf8)) + Gzip.member(name: "b.env", data: Array("B=2\n".utf8))
        #expect(try DotenvReport.read(gzip: report).map(\.key) == ["A", "B"])
        #expect(throws: DotenvReport.Failure.notGzip) { try DotenvReport.read(gzip: Array("A=1\n".utf8)) }
        #expect(throws: DotenvReport.Failure.tooBig) { try DotenvReport.read(gzip: Gzip.member(name: ".env", data: [UInt8](repeating: 65, count: 1_000_000))) }
        #expect(throws: DotenvReport.Failure.tooBig) { try DotenvReport.read(gzip: [UInt8](repeating: 0, count: 5120)) }
    }
}
