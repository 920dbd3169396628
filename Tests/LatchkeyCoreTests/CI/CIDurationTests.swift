import Testing

@testable import LatchkeyCore

@Suite("Reading GitLab durations")
struct CIDurationTests {
    @Test(
        "durations read as ChronicDuration reads them",
        arguments: [
            ("3600", 3600), ("1h 30m", 5400), ("1h30m", 5400), ("30 minutes", 1800), ("1 week", 604_800),
            ("2 days and 3 hours", 183_600), ("1.5 hours", 5400), ("hour", 3600), ("1 mo", 2_592_000),
            ("1 year", 31_557_600), ("1:30", 90), ("1:00:00", 3600), ("90 SECONDS", 90), ("1 hr plus 1 min", 3660),
            ("10 s", 10), ("2 wks", 1_209_600), ("1 2 hours", 7200),
        ]
    )
    func valid(_ text: String, _ seconds: Int) {
        #expect(CIDuration.seconds(text) == seconds)
    }

    @Test(
        "text that is not a duration, or is zero, gives nil",
        arguments: ["", "0", "0 minutes", "soon", "never", "1 fortnight", "-5", "1h, 30m", "1..5 s", ":", "1:", "abc 1"]
    )
    func invalid(_ text: String) {
        #expect(CIDuration.seconds(text) == nil)
    }

    @Test("expire_in accepts never in any case, and durations")
    func expiry() {
        #expect(CIDuration.expiry("never") == .never)
        #expect(CIDuration.expiry(" Never ") == .never)
        #expect(CIDuration.expiry("2 days") == .after(seconds: 172_800))
        #expect(CIDuration.expiry("later") == nil)
    }

    @Test(
        "absurd durations are clamped to 1,000 years, so a date made from one fits the store (issue 10)",
        arguments: ["300000000 years", "9300000000000000", "9300000000000000 weeks", String(repeating: "9", count: 400), "99999999999:0:0"]
    )
    func absurd(_ text: String) {
        #expect(CIDuration.seconds(text) == CIDuration.maximumSeconds)
        #expect(CIDuration.expiry(text) == .after(seconds: CIDuration.maximumSeconds))
    }

    @Test("a number followed by a huge number still counts for nothing, and very long text is refused")
    func noNaN() {
        #expect(CIDuration.seconds(String(repeating: "9", count: 400) + " 5 s") == 5)
        #expect(CIDuration.seconds(String(repeating: "1 s ", count: 1000)) == nil)
    }

    @Test("random text never traps")
    func fuzz() {
        var generator = SplitMix64(seed: 3)
        let alphabet = Array("0123456789.: yearsmonthweekday".unicodeScalars)
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 60)
            let text = String(String.UnicodeScalarView((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }))
            if let seconds = CIDuration.seconds(text) { #expect(seconds >= 1 && seconds <= CIDuration.maximumSeconds) }
        }
    }
}
