import Testing

@testable import LatchkeyCore

@Suite("Reading a download's Range header")
struct RangeHeaderTests {
    @Test(
        "one satisfiable range of the file is read",
        arguments: [
            ("bytes=0-9", 0...9), ("bytes=5-", 5...99), ("bytes=-10", 90...99), ("bytes=-1000", 0...99), ("bytes=90-1000", 90...99),
            ("bytes=99-99", 99...99), ("bytes=0-99999999999999999", 0...99),
        ] as [(String, ClosedRange<Int64>)]
    )
    func satisfiable(_ header: String, _ expected: ClosedRange<Int64>) {
        #expect(RangeHeader.range(header, size: 100) == expected)
    }

    @Test(
        "anything else is ignored, so the whole file is sent; never a trap",
        arguments: [
            "bytes=", "bytes=-", "bytes=-0", "bytes=100-", "bytes=5-3", "bytes=a-b", "bytes=0-9,20-29", "bytes=--5", "bytes=-5-",
            "bytes=99999999999999999999-", "bytes=0-99999999999999999999", "bytes=9223372036854775807-9223372036854775807", "items=0-9",
            "bytes=+5-9", "bytes=5-+9", "", "bytes=0--1", "bytes= 0-1", "BYTES=0-1", "bytes=0x1-2", "bytes=" + String(repeating: "1", count: 200) + "-",
        ]
    )
    func ignored(_ header: String) {
        #expect(RangeHeader.range(header, size: 100) == nil)
        #expect(RangeHeader.range(header, size: 0) == nil)
        if let range = RangeHeader.range(header, size: .max) { #expect(range.lowerBound >= 0) }
    }

    @Test("a suffix longer than Int64 can count is refused; one as long as Int64.max covers the whole file")
    func extremes() {
        #expect(RangeHeader.range("bytes=-9223372036854775808", size: 100) == nil)
        #expect(RangeHeader.range("bytes=-9223372036854775807", size: 100) == 0...99)
        #expect(RangeHeader.range("bytes=9223372036854775806-", size: .max) == 9_223_372_036_854_775_806...9_223_372_036_854_775_806)
    }
}
