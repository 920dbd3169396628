import Testing

@testable import LatchkeyCore

/// Masks `text` with `rules` in one chunk and returns the result as a string.
private func masked(_ text: String, _ rules: SecretMaskingRules) -> String {
    var masker = SecretMasker(rules: rules)
    return String(decoding: masker.maskAll(Array(text.utf8)), as: UTF8.self)
}

private func masked(_ text: String, secrets: [String]) -> String {
    masked(text, SecretMaskingRules(secrets: secrets))
}

/// Every way of cutting `text` into two or three chunks.
private func everySplit(of text: [UInt8]) -> [[ArraySlice<UInt8>]] {
    var splits: [[ArraySlice<UInt8>]] = [[text[...]]]
    for first in 0...text.count {
        splits.append([text[..<first], text[first...]])
        for second in first...text.count {
            splits.append([text[..<first], text[first..<second], text[second...]])
        }
    }
    return splits
}

@Suite("SecretMasker")
struct SecretMaskerTests {
    @Test("A secret in the text is replaced by [MASKED]")
    func basic() {
        #expect(masked("token is s3cr3t-value! ok", secrets: ["s3cr3t-value"]) == "token is [MASKED]! ok")
    }

    @Test("Every occurrence of every secret is masked")
    func multipleSecrets() {
        let text = "a=password123 b=hunter2hunter2 c=password123"
        #expect(masked(text, secrets: ["password123", "hunter2hunter2"]) == "a=[MASKED] b=[MASKED] c=[MASKED]")
    }

    @Test("Overlapping and touching secrets merge into one [MASKED] and leak no byte")
    func overlaps() {
        let rules = SecretMaskingRules(secrets: ["abcdefgh12", "12345678xyz", "zzzzzzzz"])
        #expect(masked("<abcdefgh12345678xyz>", rules) == "<[MASKED]>")
        #expect(masked("<abcdefgh12zzzzzzzz>", rules) == "<[MASKED]>")
        #expect(masked("<abcdefgh12 zzzzzzzz>", rules) == "<[MASKED] [MASKED]>")
        // One secret inside another, the inner one found first.
        let nested = SecretMaskingRules(secrets: ["bcdefghij", "abcdefghijkl"])
        #expect(masked("-abcdefghijkl-", nested) == "-[MASKED]-")
        #expect(masked("-abcdefghijk-", nested) == "-a[MASKED]k-")
    }

    @Test("GitLab's `aab` miss: the phrase is masked however aaab is split")
    func aabSplitEveryWay() {
        let rules = SecretMaskingRules(secrets: ["aab"], prefixes: [], minimumSecretLength: 3)
        let long = SecretMaskingRules(secrets: ["aaaaaaab"], prefixes: [])
        for (rules, text, expected) in [(rules, "xaaabx", "xa[MASKED]x"), (long, "aaaaaaaaaaaabaa", "aaaaa[MASKED]aa")] {
            for split in everySplit(of: Array(text.utf8)) {
                var masker = SecretMasker(rules: rules)
                var output: [UInt8] = []
                for chunk in split { output += masker.mask(chunk) }
                output += masker.finish()
                #expect(String(decoding: output, as: UTF8.self) == expected, "split \(split.map { String(decoding: $0, as: UTF8.self) })")
            }
        }
    }

    @Test("A secret at the start, at the end and across chunk edges is masked")
    func chunkEdges() {
        let rules = SecretMaskingRules(secrets: ["EDGESECRET"])
        for text in ["EDGESECRET", "EDGESECRET tail", "head EDGESECRET", "EDGESECRETEDGESECRET"] {
            for split in everySplit(of: Array(text.utf8)) {
                var masker = SecretMasker(rules: rules)
                let output = split.flatMap { masker.mask($0) } + masker.finish()
                #expect(!ReferenceMasker.contains(Array("EDGESECRET".utf8), in: output))
                #expect(output == ReferenceMasker.mask(Array(text.utf8), rules: rules))
            }
        }
    }

    @Test("Only bytes that may still start a match are held back")
    func holdsBackOnlyPossibleMatches() {
        var masker = SecretMasker(secrets: ["SECRETVALUE"])
        #expect(masker.mask(Array("plain log line.\n".utf8)) == Array("plain log line.\n".utf8))
        // Base64 characters at a line's end may be the head of a wrapped encoding on the next line: those are held.
        #expect(masker.mask(Array("last\n".utf8)) == Array("la".utf8))
        #expect(masker.mask(Array(".".utf8)) == Array("st\n.".utf8))
        #expect(masker.mask(Array("ends with SECR".utf8)) == Array("ends with ".utf8))
        #expect(masker.heldByteCount == 4)
        #expect(masker.mask(Array("ET? !".utf8)) == Array("SECRET? !".utf8))
        #expect(masker.heldByteCount == 0)
        #expect(masker.finish().isEmpty)
    }

    @Test("A secret whose first bytes were already held is masked once the rest arrives")
    func heldThenMasked() {
        var masker = SecretMasker(secrets: ["SECRETVALUE"])
        #expect(masker.mask(Array("x SECRET".utf8)) == Array("x ".utf8))
        #expect(masker.mask(Array("VALUE !".utf8)) == Array("[MASKED] !".utf8))
    }

    @Test("Token prefixes keep the prefix and swallow the token, even for unknown tokens")
    func prefixes() {
        let rules = SecretMaskingRules(secrets: [])
        #expect(masked("auth glpat-AbC_12.3=x-y rest", rules) == "auth glpat-[MASKED] rest")
        #expect(masked("glcbt-abc;glrt-xyz", rules) == "glcbt-[MASKED];glrt-[MASKED]")
        #expect(masked("a glpat- alone", rules) == "a glpat- alone")
        #expect(masked("GLPAT-abc", rules) == "GLPAT-abc")
    }

    @Test("A token is swallowed whole across every chunk boundary")
    func prefixAcrossBoundaries() {
        let rules = SecretMaskingRules(secrets: [])
        let text = Array("x glcbt-abc.def=ghi y".utf8)
        for split in everySplit(of: text) {
            var masker = SecretMasker(rules: rules)
            let output = split.flatMap { masker.mask($0) } + masker.finish()
            #expect(String(decoding: output, as: UTF8.self) == "x glcbt-[MASKED] y")
        }
    }

    @Test("A prefix at the end of the stream stays, a token at the end is masked")
    func prefixAtEndOfStream() {
        let rules = SecretMaskingRules(secrets: [])
        #expect(masked("log glpat-", rules) == "log glpat-")
        #expect(masked("log glpat", rules) == "log glpat")
        var masker = SecretMasker(rules: rules)
        #expect(masker.mask(Array("log glpat-ab".utf8)) == Array("log glpat-[MASKED]".utf8))
        #expect(masker.mask(Array("cd".utf8)).isEmpty)
        #expect(masker.finish().isEmpty)
    }

    @Test("A known token is masked whole, prefix included")
    func knownToken() {
        #expect(masked("t=glpat-0123456789abcdef", secrets: ["glpat-0123456789abcdef"]) == "t=[MASKED]")
    }

    @Test("UTF-8 text without secrets passes byte for byte, even cut inside characters")
    func utf8Untouched() {
        let text = Array("héllo wörld 🚀 日本語 ✓ glp\u{301} SECRE\n".utf8)
        let rules = SecretMaskingRules(secrets: ["SECRETVALUE", "wörld🚀x"])
        for size in [1, 2, 3, 5, text.count] {
            var masker = SecretMasker(rules: rules)
            #expect(masker.maskAll(text, chunkSizes: [size]) == text)
        }
        #expect(masked("über wörld🚀x!", rules) == "über [MASKED]!")
    }

    @Test("Empty input and empty chunks produce nothing")
    func emptyInput() {
        var masker = SecretMasker(secrets: ["SECRETVALUE"])
        #expect(masker.mask([UInt8]()).isEmpty)
        #expect(masker.mask(Array("SECRET".utf8)).isEmpty)
        #expect(masker.mask([UInt8]()).isEmpty)
        #expect(masker.finish() == Array("SECRET".utf8))
        #expect(masker.finish().isEmpty)
    }

    @Test("With no secrets and no prefixes the masker is the identity")
    func noSecrets() {
        let rules = SecretMaskingRules(secrets: [], prefixes: [])
        #expect(rules.patternCount == 0)
        let text = Array((0...255).map { UInt8($0) } + Array("glpat-abc".utf8))
        var masker = SecretMasker(rules: rules)
        #expect(masker.mask(text) == text)
        #expect(masker.finish().isEmpty)
    }

    @Test("Short secrets and secrets with a line break are ignored")
    func ignoredSecrets() {
        let rules = SecretMaskingRules(secrets: ["short", "two\nlines!!", "cr\rinside!!"])
        #expect(rules.patternCount == 0)
        #expect(masked("short two\nlines!! cr\rinside!!", rules) == "short two\nlines!! cr\rinside!!")
    }

    @Test("The masker can be reused after finish()")
    func reuse() {
        var masker = SecretMasker(secrets: ["SECRETVALUE"])
        #expect(masker.maskAll(Array("a SECRETVAL".utf8)) == Array("a SECRETVAL".utf8))
        #expect(masker.maskAll(Array("UE SECRETVALUE".utf8)) == Array("UE [MASKED]".utf8))
    }

    @Test("Input given as any byte sequence is masked the same way")
    func sequenceInput() {
        var masker = SecretMasker(secrets: ["SECRETVALUE"])
        let bytes = "x SECRETVALUE y".utf8
        #expect(masker.mask(bytes.lazy.map { $0 }) + masker.finish() == Array("x [MASKED] y".utf8))
    }
}
