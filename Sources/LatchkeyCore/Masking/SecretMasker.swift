/// A streaming masker: feed chunks, get back bytes safe to show.
///
/// The output is the input with every occurrence of every pattern (secret or encoded variant)
/// replaced, and every run of token characters `[0-9A-Za-z._=-]` after a token prefix replaced
/// (the prefix stays visible). Replaced ranges that overlap or touch merge into one `[MASKED]`.
/// The result does not depend on how the stream is cut into chunks: `mask` returns every byte
/// that no future match can reach, and holds back only the last few bytes that are still a
/// prefix of some pattern (at most the longest pattern) until the next chunk or `finish()`.
public struct SecretMasker: Sendable {
    /// What a masked range is replaced by, as in GitLab.
    public static let replacement = "[MASKED]"
    static let replacementBytes = Array(replacement.utf8)

    /// A range of stream positions to replace; `emitted` once its `[MASKED]` has been written.
    struct MaskedRange {
        var start: Int
        var end: Int
        var emitted: Bool
    }

    private let rules: SecretMaskingRules
    /// The automaton's current state, as a row offset.
    private var state: UInt32 = 0
    /// Stream bytes consumed so far.
    private var position = 0
    /// Output has been written for every stream byte before this position.
    private var emitCursor = 0
    /// The stream bytes [emitCursor, position), not yet written.
    private var held: [UInt8] = []
    /// Known masked ranges, sorted, disjoint and not touching; the first may be already emitted and still growing.
    private var ranges: [MaskedRange] = []
    /// A token prefix has been seen and only token characters followed it so far.
    private var inTokenRun = false

    /// Creates a masker for one stream.
    public init(rules: SecretMaskingRules) {
        self.rules = rules
    }

    /// Creates a masker for one stream from raw secrets, with the default rules.
    public init(secrets: [String]) {
        self.init(rules: SecretMaskingRules(secrets: secrets))
    }

    /// Masks the next chunk of the stream, returning the bytes that are now safe to show.
    public mutating func mask(_ chunk: some Sequence<UInt8>) -> [UInt8] {
        if let output = chunk.withContiguousStorageIfAvailable({ process($0) }) {
            return output
        }
        return Array(chunk).withUnsafeBufferPointer { process($0) }
    }

    /// Ends the stream, returning the bytes held back; the masker is then ready for a new stream.
    public mutating func finish() -> [UInt8] {
        var output: [UInt8] = []
        let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        flush(upTo: position, chunk: empty, chunkStart: position, into: &output)
        state = 0
        held.removeAll()
        ranges.removeAll()
        inTokenRun = false
        return output
    }

    /// Bytes currently held back because they may still turn out to be part of a match.
    var heldByteCount: Int { held.count }

    /// The raw bytes held back because they may still begin a secret; a new masker fed these first resumes the stream (the server keeps them between trace requests).
    public var heldBytes: [UInt8] { held }

    private mutating func process(_ chunk: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let automaton = rules.automaton
        let chunkStart = position
        let count = chunk.count
        var current = state
        automaton.table.withUnsafeBufferPointer { table in
            automaton.byteClass.withUnsafeBufferPointer { byteClass in
                let firstSpecial = automaton.firstSpecialOffset
                var index = 0
                while index < count {
                    if inTokenRun {
                        // Slow path, one byte at a time, while a token is being swallowed.
                        let byte = chunk[index]
                        current = table[Int(current) &+ Int(byteClass[Int(byte)])]
                        if Self.isTokenByte(byte) {
                            addRange(start: chunkStart + index, end: chunkStart + index + 1)
                        } else {
                            inTokenRun = false
                        }
                        if current >= firstSpecial {
                            handleSpecial(current, end: chunkStart + index + 1)
                        }
                        index += 1
                        continue
                    }
                    // Hot path: no allocation, no bookkeeping, until a pattern or prefix ends.
                    while index < count {
                        current = table[Int(current) &+ Int(byteClass[Int(chunk[index])])]
                        if current >= firstSpecial { break }
                        index += 1
                    }
                    if index < count {
                        handleSpecial(current, end: chunkStart + index + 1)
                        index += 1
                    }
                }
            }
        }
        state = current
        position += count
        var output: [UInt8] = []
        output.reserveCapacity(held.count + count + SecretMasker.replacementBytes.count)
        let undecided = Int(automaton.depth[Int(current) / automaton.classCount])
        flush(upTo: position - undecided, chunk: chunk, chunkStart: chunkStart, into: &output)
        let heldStart = chunkStart - held.count
        if emitCursor >= chunkStart {
            held.removeAll(keepingCapacity: true)
            held.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[(emitCursor - chunkStart)...]))
        } else {
            held.removeFirst(emitCursor - heldStart)
            held.append(contentsOf: chunk)
        }
        return output
    }

    private mutating func handleSpecial(_ offset: UInt32, end: Int) {
        let automaton = rules.automaton
        let special = Int(offset - automaton.firstSpecialOffset) / automaton.classCount
        let length = Int(automaton.matchLength[special])
        if length > 0 {
            addRange(start: end - length, end: end)
        }
        if automaton.endsPrefix[special] {
            inTokenRun = true
        }
    }

    /// Adds a masked range; ranges arrive in order of their end, so only trailing ranges can merge.
    private mutating func addRange(start: Int, end: Int) {
        if let last = ranges.last, last.end == start {
            ranges[ranges.count - 1].end = end
            return
        }
        var merged = MaskedRange(start: start, end: end, emitted: false)
        while let last = ranges.last, last.end >= merged.start {
            merged.start = min(merged.start, last.start)
            merged.emitted = merged.emitted || last.emitted
            ranges.removeLast()
        }
        ranges.append(merged)
    }

    /// Writes output for every stream byte before `limit`; no match found later can start before it.
    private mutating func flush(upTo limit: Int, chunk: UnsafeBufferPointer<UInt8>, chunkStart: Int, into output: inout [UInt8]) {
        var done = 0
        while done < ranges.count, ranges[done].start < limit {
            let range = ranges[done]
            if !range.emitted {
                appendPlain(from: emitCursor, to: range.start, chunk: chunk, chunkStart: chunkStart, into: &output)
                output += SecretMasker.replacementBytes
            }
            emitCursor = max(emitCursor, range.end)
            if range.end >= limit {
                // A match starting at `limit` would touch this range, so keep it open to merge.
                ranges[done].emitted = true
                break
            }
            done += 1
        }
        ranges.removeFirst(done)
        if emitCursor < limit {
            appendPlain(from: emitCursor, to: limit, chunk: chunk, chunkStart: chunkStart, into: &output)
            emitCursor = limit
        }
    }

    /// Appends the stream bytes [from, to), which lie in `held` and then in `chunk`.
    private func appendPlain(from start: Int, to end: Int, chunk: UnsafeBufferPointer<UInt8>, chunkStart: Int, into output: inout [UInt8]) {
        guard start < end else { return }
        let heldStart = chunkStart - held.count
        if start < chunkStart {
            output += held[(start - heldStart)..<(min(end, chunkStart) - heldStart)]
        }
        if end > chunkStart {
            output += UnsafeBufferPointer(rebasing: chunk[(max(start, chunkStart) - chunkStart)..<(end - chunkStart)])
        }
    }

    /// The characters GitLab's token sanitiser swallows after a prefix: `[0-9A-Za-z._=-]`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "="), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
