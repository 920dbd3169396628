import Testing

@testable import LatchkeyCore

/// A readable failure message: the seed, then both outputs as text.
private func mismatch(_ output: [UInt8], _ expected: [UInt8], _ context: String) -> Comment {
    let got = String(decoding: output, as: UTF8.self).debugDescription
    let want = String(decoding: expected, as: UTF8.self).debugDescription
    return "\(context)\n   got: \(got)\n  want: \(want)"
}

/// Random secrets, texts and chunkings; every case is reproducible from the seed it prints on failure.
@Suite("SecretMasker properties")
struct SecretMaskerPropertyTests {
    /// Alphabets for secrets and filler; the small ones make self-overlap and near misses likely. No `[` or `]`, so an output
    /// occurrence of a pattern cannot straddle a `[MASKED]`.
    static let alphabets: [[UInt8]] = [
        Array("ab".utf8),
        Array("aaaaaaab".utf8),
        Array("abc".utf8),
        Array("0123456789abcdef".utf8),
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8),
        Array("abAB01+/=-_.%\"\\ :é".utf8),
        Array("glpatcbr-_.=x".utf8),
    ]

    struct Case {
        var rules: SecretMaskingRules
        var secrets: [[UInt8]]
        var text: [UInt8]
    }

    static func randomBytes(_ count: Int, from alphabet: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
    }

    static func makeCase(seed: UInt64, plant: Bool) -> Case {
        var generator = SplitMix64(seed: seed)
        let alphabet = alphabets.randomElement(using: &generator)!
        let secretCount = Int.random(in: 1...3, using: &generator)
        var secrets = (0..<secretCount).map { _ in
            randomBytes(Int.random(in: 8...64, using: &generator), from: alphabet, using: &generator)
        }
        if Bool.random(using: &generator) {
            secrets[0] = Array("glcbt-".utf8) + randomBytes(Int.random(in: 2...20, using: &generator), from: alphabet, using: &generator)
        }
        // Secrets come in as Strings; invalid UTF-8 (a split é) is repaired there, so use what the rules see.
        let strings = secrets.map { String(decoding: $0, as: UTF8.self) }
        let rules = SecretMaskingRules(secrets: strings)
        secrets = strings.map { Array($0.utf8) }
        var text: [UInt8] = []
        let pieces = Int.random(in: 0...12, using: &generator)
        for _ in 0..<pieces {
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<3:
                text += randomBytes(Int.random(in: 0...20, using: &generator), from: alphabet, using: &generator)
            case 3:
                text += Array(" \n✓é\t".utf8).shuffled(using: &generator).prefix(Int.random(in: 1...5, using: &generator))
            case 4..<7 where plant:
                text += rules.patterns.randomElement(using: &generator) ?? []
            case 7 where plant:
                text += Array(["glpat-", "glrt-", "glcbt-", "glcb"].randomElement(using: &generator)!.utf8)
            default:
                // A near miss: a pattern with its last byte cut or changed.
                var pattern = rules.patterns.randomElement(using: &generator) ?? []
                if !pattern.isEmpty {
                    if Bool.random(using: &generator) {
                        pattern.removeLast()
                    } else {
                        pattern[pattern.count - 1] = alphabet.randomElement(using: &generator)!
                    }
                }
                text += pattern
            }
        }
        return Case(rules: rules, secrets: secrets, text: text)
    }

    static func chunkings(for count: Int, using generator: inout SplitMix64) -> [[Int]] {
        [[1], [max(count, 1)], (0..<8).map { _ in Int.random(in: 1...max(1, count / 2 + 1), using: &generator) }]
    }

    @Test("Every chunking gives the reference result and no secret or variant survives")
    func matchesReferenceUnderEveryChunking() {
        for seed in UInt64(1)...1_200 {
            let testCase = Self.makeCase(seed: seed, plant: true)
            let expected = ReferenceMasker.mask(testCase.text, rules: testCase.rules)
            for pattern in testCase.rules.patterns where ReferenceMasker.contains(pattern, in: expected) {
                Issue.record("seed \(seed): pattern \(String(decoding: pattern, as: UTF8.self)) survives")
            }
            var generator = SplitMix64(seed: seed ^ 0xC0FFEE)
            for sizes in Self.chunkings(for: testCase.text.count, using: &generator) {
                var masker = SecretMasker(rules: testCase.rules)
                let output = masker.maskAll(testCase.text, chunkSizes: sizes)
                if output != expected {
                    Issue.record(mismatch(output, expected, "seed \(seed), chunk sizes \(sizes)"))
                    return
                }
            }
        }
    }

    @Test("Bytes held back never exceed the longest pattern and its head")
    func holdsBackBoundedBytes() {
        for seed in UInt64(10_001)...10_300 {
            let testCase = Self.makeCase(seed: seed, plant: true)
            var masker = SecretMasker(rules: testCase.rules)
            var generator = SplitMix64(seed: seed)
            var start = 0
            while start < testCase.text.count {
                let end = min(testCase.text.count, start + Int.random(in: 1...16, using: &generator))
                _ = masker.mask(testCase.text[start..<end])
                #expect(masker.heldByteCount <= testCase.rules.automaton.longestPattern + Int(testCase.rules.automaton.maximumHead), "seed \(seed)")
                start = end
            }
        }
    }

    @Test("Text without secrets or prefixes passes byte for byte under every chunking")
    func textWithoutSecretsIsUntouched() {
        var clean = 0
        for seed in UInt64(20_001)...20_800 {
            let testCase = Self.makeCase(seed: seed, plant: false)
            guard ReferenceMasker.mask(testCase.text, rules: testCase.rules) == testCase.text else { continue }
            clean += 1
            var generator = SplitMix64(seed: seed)
            for sizes in Self.chunkings(for: testCase.text.count, using: &generator) {
                var masker = SecretMasker(rules: testCase.rules)
                let output = masker.maskAll(testCase.text, chunkSizes: sizes)
                if output != testCase.text { Issue.record(mismatch(output, testCase.text, "seed \(seed), chunk sizes \(sizes)")) }
            }
        }
        // Guard against a generator that stops producing clean texts (the test would then check nothing).
        #expect(clean > 400)
    }

    @Test("Many secrets at once: chunked output equals the reference")
    func manySecrets() {
        for seed in UInt64(30_001)...30_040 {
            var generator = SplitMix64(seed: seed)
            let secrets = (0..<40).map { _ in
                String(
                    decoding: Self.randomBytes(Int.random(in: 8...40, using: &generator), from: Self.alphabets[4], using: &generator),
                    as: UTF8.self
                )
            }
            let rules = SecretMaskingRules(secrets: secrets)
            var text: [UInt8] = []
            for _ in 0..<30 {
                text += Self.randomBytes(Int.random(in: 0...30, using: &generator), from: Self.alphabets[4] + [0x20, 0x0A], using: &generator)
                if Int.random(in: 0..<3, using: &generator) == 0 { text += rules.patterns.randomElement(using: &generator)! }
            }
            let expected = ReferenceMasker.mask(text, rules: rules)
            var masker = SecretMasker(rules: rules)
            let output = masker.maskAll(text, chunkSizes: [7, 1, 64, 3])
            if output != expected { Issue.record(mismatch(output, expected, "seed \(seed)")) }
        }
    }
}
