import Foundation
import Testing

@testable import LatchkeyCore

/// Long texts in large chunks, where the prefilter skips plain text and hands the automaton only candidate places:
/// the output must still be exactly the reference masker's. (The other property tests use short texts, which sit
/// mostly within the prefilter's look-behind of a chunk's end and so run through the automaton anyway.)
///
/// `LATCHKEY_MASKING_PREFILTER_CASES` sets how many texts run (default 600); each is masked under three chunkings.
@Suite("SecretMasker prefilter properties")
struct SecretMaskerPrefilterPropertyTests {
    static var caseCount: Int {
        ProcessInfo.processInfo.environment["LATCHKEY_MASKING_PREFILTER_CASES"].flatMap(Int.init).map { max($0, 1) } ?? 600
    }

    /// Log-like filler: words of the alphabet and of plain text, spaces, line breaks, now and then a tab or `\r\n`.
    static func filler(_ count: Int, alphabet: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        let plain = Array("abcdefghijklmnopqrstuvwxyz 0123456789:.-".utf8)
        var result: [UInt8] = []
        while result.count < count {
            switch Int.random(in: 0..<10, using: &generator) {
            case 0: result.append(0x0A)
            case 1: result += [0x0D, 0x0A]
            case 2: result.append(0x09)
            case 3..<6: result += SecretMaskerNormalisedViewPropertyTests.randomBytes(Int.random(in: 1...12, using: &generator), from: alphabet, using: &generator)
            default: result += SecretMaskerNormalisedViewPropertyTests.randomBytes(Int.random(in: 1...12, using: &generator), from: plain, using: &generator)
            }
            result.append(0x20)
        }
        return result
    }

    @Test("Long texts of plain lines with secrets, encodings, interruptions and near misses give the reference result in large chunks")
    func longTextsEqualReference() throws {
        var masked = 0
        for seed in UInt64(1)...UInt64(Self.caseCount) {
            var generator = SplitMix64(seed: seed &* 0x9E37_79B9)
            let alphabet = SecretMaskerNormalisedViewPropertyTests.alphabets.randomElement(using: &generator)!
            var secrets = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                String(decoding: SecretMaskerNormalisedViewPropertyTests.randomBytes(Int.random(in: 8...40, using: &generator), from: alphabet, using: &generator), as: UTF8.self)
            }
            if Bool.random(using: &generator) {
                secrets[0] = "glcbt-" + String(decoding: SecretMaskerNormalisedViewPropertyTests.randomBytes(Int.random(in: 8...20, using: &generator), from: alphabet, using: &generator), as: UTF8.self)
            }
            let rules = SecretMaskingRules(secrets: secrets)
            var text: [UInt8] = []
            for _ in 0..<Int.random(in: 1...12, using: &generator) {
                text += Self.filler(Int.random(in: 0...400, using: &generator), alphabet: alphabet, using: &generator)
                text += SecretMaskerNormalisedViewPropertyTests.makeText(rules: rules, alphabet: alphabet, using: &generator)
            }
            text += Self.filler(Int.random(in: 0...200, using: &generator), alphabet: alphabet, using: &generator)
            let expected = ReferenceMasker.mask(text, rules: rules)
            if expected != text { masked += 1 }
            let chunkings: [([Int], Int)] = [
                ([max(text.count, 1)], 0),
                ((0..<4).map { _ in Int.random(in: 64...1024, using: &generator) }, 0),
                ((0..<4).map { _ in Int.random(in: 16...512, using: &generator) }, Int.random(in: 1...3, using: &generator)),
            ]
            for (sizes, handOver) in chunkings {
                let output = SecretMaskerNormalisedViewPropertyTests.maskStreaming(text, rules: rules, sizes: sizes, handOver: handOver)
                if output != expected {
                    Issue.record(
                        """
                        seed \(seed), chunk sizes \(sizes), hand-over every \(handOver)
                          text: \(String(decoding: text, as: UTF8.self).debugDescription)
                           got: \(String(decoding: output, as: UTF8.self).debugDescription)
                          want: \(String(decoding: expected, as: UTF8.self).debugDescription)
                        """)
                    return
                }
            }
        }
        #expect(masked > Self.caseCount / 2, "\(masked) masked texts in \(Self.caseCount)")
    }

    @Test("The prefilter is on for ordinary rules and hands the automaton little of a plain log")
    func prefilterSkipsPlainText() {
        let rules = SecretMaskingRules(secrets: ["glcbt-64_5f2a9c0e7b1d4a3f8e6c2b0a9d7f5e3c1b", "s3cr3t-Variable_value"])
        #expect(rules.prefilter.isEnabled)
        let line = Array("2025-06-01T12:00:00.123456Z Compiling module LatchkeyCore in 42 ms, warning: none\n".utf8)
        let log = Array((0..<200).map { _ in line }.joined())
        let handed = log.withUnsafeBufferPointer { rules.scanPrefilter($0) }
        #expect(handed < log.count / 10, "\(handed) of \(log.count) bytes handed to the automaton")
    }
}
