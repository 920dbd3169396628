@testable import LatchkeyCore

/// The specification of masking, written the obvious way: find every occurrence in the whole text, merge, replace.
enum ReferenceMasker {
    static func mask(_ text: [UInt8], rules: SecretMaskingRules) -> [UInt8] {
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
            output += Array(SecretMasker.replacement.utf8)
            cursor = range.end
        }
        output += text[cursor...]
        return output
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
