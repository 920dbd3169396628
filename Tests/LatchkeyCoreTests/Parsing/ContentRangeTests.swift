import Testing

@testable import LatchkeyCore

@Suite("Reading a trace PATCH's Content-Range")
struct ContentRangeTests {
    @Test(
        "the runner's and RFC 9110's spellings read as start and end",
        arguments: [
            ("0-99", 0, 99), ("100-199", 100, 199), ("5-4", 5, 4), ("bytes 0-99/100", 0, 99), ("bytes 0-99/*", 0, 99),
            ("BYTES 7-9", 7, 9), (" 0-0 ", 0, 0), ("9223372036854775806-9223372036854775806", 9_223_372_036_854_775_806, 9_223_372_036_854_775_806),
        ] as [(String, Int64, Int64)]
    )
    func valid(_ text: String, _ start: Int64, _ end: Int64) throws {
        #expect(try ContentRange.parse(text) == ContentRange(start: start, end: end))
    }

    @Test(
        "anything else is malformed, never a trap",
        arguments: [
            "0-/", "", "-", "0-", "-5", "--", "0--1", "-1-5", "+1-5", "1-+5", "a-b", "0-1-2", "5-3", "0 - 9", "bytes=0-9", "0-9/",
            "0-9/x", "99999999999999999999-1", "0-99999999999999999999", "٣-٤", "0-1/2/3", "/", "bytes ", String(repeating: "9", count: 500),
        ]
    )
    func malformed(_ text: String) {
        #expect(throws: ContentRange.ParseError.malformed) { try ContentRange.parse(text) }
    }

    @Test("random and mutated headers are answered with a value or malformed")
    func fuzz() {
        var generator = SplitMix64(seed: 10)
        let alphabet = Array("0123456789-/ *bytes+\u{0}é".unicodeScalars)
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 40)
            let text = String(String.UnicodeScalarView((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }))
            if let range = try? ContentRange.parse(text) {
                #expect(range.start >= 0 && range.end >= range.start - 1)
            }
        }
    }
}
