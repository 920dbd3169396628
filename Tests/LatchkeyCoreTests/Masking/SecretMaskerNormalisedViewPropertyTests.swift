import Foundation
import Testing

@testable import LatchkeyCore

/// Random secrets, random escape sequences and control bytes inside and around them, random chunk and request
/// boundaries: the streaming masker must give exactly the reference result, and no secret may survive in what a
/// terminal (or the web page) shows of the output.
///
/// `LATCHKEY_MASKING_CASES` sets how many cases run (default 20,000); each case is one text under one chunking.
@Suite("SecretMasker normalised view properties")
struct SecretMaskerNormalisedViewPropertyTests {
    static var caseCount: Int {
        ProcessInfo.processInfo.environment["LATCHKEY_MASKING_CASES"].flatMap(Int.init).map { max($0, 1) } ?? 20_000
    }

    /// Bytes a terminal does not show, as jobs print them: colours, OSC titles and links, control bytes, line breaks.
    static let interruptions: [[UInt8]] = [
        "\u{1B}[0m", "\u{1B}[1;32m", "\u{1B}[0K", "\u{1B}[?25l", "\r", "\n", "\r\n", "\u{8}", "\u{0}", "\u{7}", "\u{7F}",
        "\u{1B}]0;title\u{7}", "\u{1B}]8;;https://x.test/\u{1B}\\", "\u{1B}(B", "\u{1B}M", "\u{1B}", "\u{1B}[", "\u{1B}]",
        "\u{1B}[38;5;208m\u{1B}[0m", "\r\u{1B}[0K",
        // GitLab section markers, real and broken: only complete ones are transparent.
        "\u{1B}[0Ksection_start:1700000000:step_script[collapsed=true]\r\u{1B}[0K", "\u{1B}[0Ksection_end:17:build.x-1\r\u{1B}[0K",
        "\u{1B}[0Ksection_start:1:a\r\u{1B}[0Ksection_end:1:a\r\u{1B}[0K", "\u{1B}[0Ksection_start:12:na me\r\u{1B}[0K",
        "\u{1B}[0Ksection_end:1:x\r\u{1B}[1K", "\u{1B}[0Ksection_start:x", "\u{1B}[0Ksection_", "\u{1B}[0Ksection_end:9:a[b\r",
        "\u{1B}[0Ksection_end::a\r\u{1B}[0K", "\u{1B}[0Ksection_start:3:[]\r\u{1B}[0K", "\u{1B}[0Ks", "section_start:5:y\r\u{1B}[0K",
    ].map { Array($0.utf8) }

    static let alphabets: [[UInt8]] = [
        Array("ab".utf8),
        Array("abc".utf8),
        Array("0123456789abcdef".utf8),
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8),
        Array("abAB01+/=-_.%\"\\ :é".utf8),
        Array("glpatcbr-_.=x0;m".utf8),
    ]

    static func randomBytes(_ count: Int, from alphabet: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
    }

    /// `bytes` with interruptions inserted at random places.
    static func interrupted(_ bytes: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        var result: [UInt8] = []
        for byte in bytes {
            if Int.random(in: 0..<6, using: &generator) == 0 { result += interruptions.randomElement(using: &generator)! }
            result.append(byte)
        }
        return result
    }

    static func makeText(rules: SecretMaskingRules, alphabet: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        var text: [UInt8] = []
        for _ in 0..<Int.random(in: 0...10, using: &generator) {
            switch Int.random(in: 0..<12, using: &generator) {
            case 0..<2:
                text += randomBytes(Int.random(in: 0...16, using: &generator), from: alphabet, using: &generator)
            case 2:
                text += interruptions.randomElement(using: &generator)!
            case 3..<5:
                text += rules.patterns.randomElement(using: &generator) ?? []
            case 5..<8:
                text += interrupted(rules.patterns.randomElement(using: &generator) ?? [], using: &generator)
            case 8:
                text += interrupted(Array(["glpat-", "glrt-", "glcbt-"].randomElement(using: &generator)!.utf8), using: &generator)
                text += interrupted(randomBytes(Int.random(in: 0...8, using: &generator), from: alphabet, using: &generator), using: &generator)
            case 9:
                // A pattern followed by the rest of an encoded group and padding.
                text += rules.patterns.randomElement(using: &generator) ?? []
                text += interrupted(randomBytes(Int.random(in: 0...3, using: &generator), from: Array("Ab9+/_-".utf8), using: &generator), using: &generator)
                text += Array(repeating: UInt8(ascii: "="), count: Int.random(in: 0...3, using: &generator))
            default:
                // A near miss, interrupted.
                var pattern = rules.patterns.randomElement(using: &generator) ?? []
                if !pattern.isEmpty { pattern[Int.random(in: 0..<pattern.count, using: &generator)] = alphabet.randomElement(using: &generator)! }
                text += interrupted(pattern, using: &generator)
            }
        }
        return text
    }

    /// Masks in chunks of the given sizes, handing the stream to a new masker (through `resumeState`) at every `handOver`-th chunk.
    static func maskStreaming(_ text: [UInt8], rules: SecretMaskingRules, sizes: [Int], handOver: Int) -> [UInt8] {
        var masker = SecretMasker(rules: rules)
        var output: [UInt8] = []
        var start = 0
        var turn = 0
        while start < text.count {
            let end = min(text.count, start + max(1, sizes[turn % sizes.count]))
            output += masker.mask(text[start..<end])
            start = end
            turn += 1
            if handOver > 0, turn % handOver == 0 { masker = SecretMasker(rules: rules, resumingFrom: masker.resumeState) }
        }
        return output + masker.finish()
    }

    @Test("Every chunking and every hand-over between maskers gives the reference result, and no pattern is visible in it")
    func streamingEqualsReference() throws {
        let total = Self.caseCount
        var cases = 0
        var seed: UInt64 = 0
        var masked = 0
        while cases < total {
            seed += 1
            var generator = SplitMix64(seed: seed)
            let alphabet = Self.alphabets.randomElement(using: &generator)!
            var secrets = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                String(decoding: Self.randomBytes(Int.random(in: 8...40, using: &generator), from: alphabet, using: &generator), as: UTF8.self)
            }
            if Bool.random(using: &generator) {
                secrets[0] = "glcbt-" + String(decoding: Self.randomBytes(Int.random(in: 8...20, using: &generator), from: alphabet, using: &generator), as: UTF8.self)
            }
            let rules = SecretMaskingRules(secrets: secrets)
            let separator = try #require((0x80...0xFF).map(UInt8.init).first { byte in !rules.patterns.contains { $0.contains(byte) } })
            for textNumber in 0..<8 {
                let text = Self.makeText(rules: rules, alphabet: alphabet, using: &generator)
                let expected = ReferenceMasker.mask(text, rules: rules)
                if expected != text { masked += 1 }
                // Each `[MASKED]` as one byte no pattern contains: an unfinished `ESC[` before it would eat its `[` and let its
                // `M` complete a pattern on screen, which shows the replacement, not the secret. (0xFF alone will not do: it is
                // half of U+FFFD in a UTF-16 variant.)
                let shown = ReferenceMasker.normalisedView(of: ReferenceMasker.mask(text, rules: rules, replacement: [separator]))
                for pattern in rules.patterns where ReferenceMasker.contains(pattern, in: shown) {
                    Issue.record("seed \(seed) text \(textNumber): \(String(decoding: pattern, as: UTF8.self).debugDescription) visible in \(String(decoding: expected, as: UTF8.self).debugDescription)")
                    return
                }
                let chunkings: [([Int], Int)] = [
                    ([1], 0), ([max(text.count, 1)], 0),
                    ((0..<6).map { _ in Int.random(in: 1...max(1, text.count / 3 + 1), using: &generator) }, Int.random(in: 1...3, using: &generator)),
                ]
                for (sizes, handOver) in chunkings {
                    let output = Self.maskStreaming(text, rules: rules, sizes: sizes, handOver: handOver)
                    cases += 1
                    if output != expected {
                        Issue.record(
                            """
                            seed \(seed) text \(textNumber), chunk sizes \(sizes), hand-over every \(handOver)
                              text: \(String(decoding: text, as: UTF8.self).debugDescription)
                               got: \(String(decoding: output, as: UTF8.self).debugDescription)
                              want: \(String(decoding: expected, as: UTF8.self).debugDescription)
                            """)
                        return
                    }
                }
            }
        }
        // Guard against a generator that stops planting secrets (the test would then check nothing).
        #expect(masked > cases / 6, "\(masked) masked texts in \(cases) cases")
    }
}
