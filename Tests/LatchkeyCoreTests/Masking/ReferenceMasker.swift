import Foundation

@testable import LatchkeyCore

/// The specification of masking, written the obvious way: find every occurrence in the whole text, merge, replace.
///
/// Two views are matched and their ranges united: the raw bytes (what hides inside an escape sequence is found there)
/// and the normalised view, the visible bytes only (a secret interrupted by escapes, `\r`, line breaks or NULs is found
/// there and masked from its first to its last byte). Encoded-group heads and tails and token runs are applied in the view.
/// Complete GitLab section markers (found here by a regular expression, not by the masker's recogniser) are not in the view.
enum ReferenceMasker {
    static func mask(_ text: [UInt8], rules: SecretMaskingRules, replacement: [UInt8] = Array(SecretMasker.replacement.utf8)) -> [UInt8] {
        var ranges = rawRanges(text, rules: rules) + viewRanges(text, rules: rules) + headRanges(text, rules: rules)
        ranges.sort { $0.start < $1.start }
        var merged: [(start: Int, end: Int)] = []
        for range in ranges {
            if let last = merged.last, range.start <= last.end {
                merged[merged.count - 1].end = max(last.end, range.end)
            } else {
                merged.append(range)
            }
        }
        var output: [UInt8] = []
        var cursor = 0
        for range in merged {
            output += text[cursor..<range.start]
            output += replacement
            cursor = range.end
        }
        output += text[cursor...]
        return output
    }

    /// Occurrences in the raw bytes, and GitLab's token runs: the prefix, then contiguous token characters.
    static func rawRanges(_ text: [UInt8], rules: SecretMaskingRules) -> [(start: Int, end: Int)] {
        var ranges: [(start: Int, end: Int)] = []
        for pattern in rules.patterns {
            for start in occurrences(of: pattern, in: text) {
                ranges.append((start, start + pattern.count))
            }
        }
        for prefix in rules.prefixes {
            for start in occurrences(of: prefix, in: text) {
                var end = start + prefix.count
                let runStart = end
                while end < text.count, SecretMasker.isTokenByte(text[end]) { end += 1 }
                if end > runStart { ranges.append((runStart, end)) }
            }
        }
        return ranges
    }

    /// `ESC[0K section_start|end:<digits>:<name>[<options>] \r ESC[0K`; the lookahead lets one marker's closing `ESC[0K` open the next.
    static let sectionMarker = try! NSRegularExpression(
        pattern: #"\x1B\[0K(?=(section_(?:start|end):[0-9]{1,20}:[A-Za-z0-9_.-]{1,256}(?:\[[\x20-\x5C\x5E-\x7E]{0,256}\])?\r\x1B\[0K))"#)

    /// The byte ranges of complete section markers (without their opening `ESC[0K`).
    static func sectionMarkers(in text: [UInt8]) -> [Range<Int>] {
        // Latin-1 maps every byte to one UTF-16 unit, so string offsets are byte offsets.
        let string = String(decoding: text.map { UInt16($0) }, as: UTF16.self)
        let all = NSRange(location: 0, length: (string as NSString).length)
        return sectionMarker.matches(in: string, range: all).map { match in
            let range = match.range(at: 1)
            return range.location..<(range.location + range.length)
        }
    }

    /// What a reader sees of `text` once escapes, control bytes, line breaks and section markers are taken out.
    static func normalisedView(of text: [UInt8]) -> [UInt8] {
        kinds(of: text).enumerated().compactMap { $0.element == .visible ? text[$0.offset] : nil }
    }

    /// Each byte's kind in the normalised view: the terminal parser's, with section markers transparent.
    static func kinds(of text: [UInt8]) -> [TerminalSequenceParser.Kind] {
        var parser = TerminalSequenceParser()
        var kinds = text.map { parser.classify($0) }
        for marker in sectionMarkers(in: text) {
            for index in marker { kinds[index] = .transparent }
        }
        return kinds
    }

    /// Occurrences in the visible bytes, each widened to the raw bytes it spans, its encoded group's tail and token runs.
    static func viewRanges(_ text: [UInt8], rules: SecretMaskingRules) -> [(start: Int, end: Int)] {
        var positions: [Int] = []
        var view: [UInt8] = []
        // breakBefore[j]: a line break lies between visible bytes j-1 and j.
        var breakBefore: [Bool] = []
        var sawBreak = false
        for (index, kind) in kinds(of: text).enumerated() {
            let byte = text[index]
            switch kind {
            case .visible:
                positions.append(index)
                view.append(byte)
                breakBefore.append(sawBreak)
                sawBreak = false
            case .lineBreak:
                sawBreak = true
            case .transparent:
                break
            }
        }
        var ranges: [(start: Int, end: Int)] = []
        var tailAt: [Int: (characters: UInt8, padding: UInt8)] = [:]
        for (index, pattern) in rules.patterns.enumerated() {
            let tail = rules.tails[index]
            for start in occurrences(of: pattern, in: view) {
                let end = start + pattern.count
                ranges.append((positions[start], positions[end - 1] + 1))
                let known = tailAt[end] ?? (0, 0)
                tailAt[end] = (max(known.characters, tail.characters), max(known.padding, tail.padding))
            }
        }
        for (end, tail) in tailAt where tail.characters > 0 {
            // The rest of the group: encoded characters, then (if allowed) `=` padding for what is left of it.
            var next = end
            var characters = tail.characters
            while characters > 0, next < view.count, SecretMasker.isEncodedCharacter(view[next]) {
                characters -= 1
                next += 1
            }
            while tail.padding > 0, characters > 0, next < view.count, view[next] == UInt8(ascii: "=") {
                characters -= 1
                next += 1
            }
            if next > end { ranges.append((positions[end - 1] + 1, positions[next - 1] + 1)) }
        }
        for prefix in rules.prefixes {
            for start in occurrences(of: prefix, in: view) {
                let runStart = start + prefix.count
                var end = runStart
                while end < view.count, SecretMasker.isTokenByte(view[end]), !breakBefore[end] { end += 1 }
                if end > runStart { ranges.append((positions[runStart - 1] + 1, positions[end - 1] + 1)) }
            }
        }
        return ranges
    }

    /// Heads: up to `heads[i]` encoded characters right before a view occurrence, which may hold bits of the secret.
    static func headRanges(_ text: [UInt8], rules: SecretMaskingRules) -> [(start: Int, end: Int)] {
        let kinds = kinds(of: text)
        let positions = kinds.indices.filter { kinds[$0] == .visible }
        let view = positions.map { text[$0] }
        var ranges: [(start: Int, end: Int)] = []
        for (index, pattern) in rules.patterns.enumerated() where rules.heads[index] > 0 {
            for start in occurrences(of: pattern, in: view) {
                var first = start
                while first > 0, start - first < Int(rules.heads[index]), SecretMasker.isEncodedCharacter(view[first - 1]) { first -= 1 }
                if first < start { ranges.append((positions[first], positions[start])) }
            }
        }
        return ranges
    }

    static func occurrences(of pattern: [UInt8], in text: [UInt8]) -> [Int] {
        guard !pattern.isEmpty, pattern.count <= text.count else { return [] }
        // Plain loops over buffer pointers: the suite runs in debug builds, where slicing is slow.
        return text.withUnsafeBufferPointer { text in
            pattern.withUnsafeBufferPointer { pattern in
                var found: [Int] = []
                let first = pattern[0]
                for start in 0...(text.count - pattern.count) where text[start] == first {
                    var offset = 1
                    while offset < pattern.count, text[start + offset] == pattern[offset] { offset += 1 }
                    if offset == pattern.count { found.append(start) }
                }
                return found
            }
        }
    }

    static func contains(_ pattern: [UInt8], in text: [UInt8]) -> Bool {
        !occurrences(of: pattern, in: text).isEmpty
    }
}

extension SecretMasker {
    /// Masks `text` fed in the given chunk sizes (cycled), then finishes.
    mutating func maskAll(_ text: [UInt8], chunkSizes: [Int]) -> [UInt8] {
        var output: [UInt8] = []
        var start = 0
        var turn = 0
        while start < text.count {
            let size = max(1, chunkSizes[turn % chunkSizes.count])
            let end = min(text.count, start + size)
            output += mask(text[start..<end])
            start = end
            turn += 1
        }
        return output + finish()
    }

    /// Masks `text` in one chunk, then finishes.
    mutating func maskAll(_ text: [UInt8]) -> [UInt8] {
        mask(text) + finish()
    }
}
