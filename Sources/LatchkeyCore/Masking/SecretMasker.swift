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
    struct MaskedRange: Equatable {
        var start: Int
        var end: Int
        var emitted: Bool
    }

    /// A run of transparent bytes in the stream, kept while a match in the normalised view may still span it.
    struct Gap: Equatable {
        var start: Int
        var end: Int
    }

    /// The rest of a partly covered encoded group after a match.
    struct Tail: Equatable {
        /// Characters of the group still to swallow.
        var characters: UInt8
        /// 0: no padding allowed; 1: `=` may fill the rest of the group; 2: padding has begun, so only `=` may follow.
        var padding: UInt8
    }

    /// A transparent run longer than this breaks the normalised view, bounding the bytes held back.
    static let maximumGap = 4096

    private let rules: SecretMaskingRules
    /// The automaton's state over the raw bytes, as a row offset; control bytes reset it.
    private var rawState: UInt32 = 0
    /// The automaton's state over the normalised view (visible bytes only).
    private var viewState: UInt32 = 0
    private var parser = TerminalSequenceParser()
    /// Section markers in the view: a candidate's bytes are held out of the view until it is known to be a marker.
    private var markers = SectionMarkerRecogniser()
    /// The bytes of the current marker candidate, starting at stream position `markerStart`.
    private var markerHeld: [UInt8] = []
    private var markerStart = 0
    /// Stream bytes consumed so far.
    private var position = 0
    /// Output has been written for every stream byte before this position.
    private var emitCursor = 0
    /// The stream bytes [emitCursor, position), not yet written.
    private var held: [UInt8] = []
    /// Known masked ranges, sorted, disjoint and not touching; the first may be already emitted and still growing.
    private var ranges: [MaskedRange] = []
    /// Transparent runs at or after the start of the view's undecided bytes, in order.
    private var gaps: [Gap] = []
    /// A token prefix has been seen in the raw bytes and only token characters followed it.
    private var rawRun = false
    /// A token prefix has been seen in the view and only token characters (and escape sequences) followed it.
    private var viewRun = false
    /// The end of the view run's masked bytes (the prefix's end before its first character).
    private var viewRunEnd = 0
    /// The stream position before which the prefilter does not take over again (the end of what made it hand over).
    private var exactUntil = 0
    /// Open encoded-group tails in the view, and the end of the bytes they covered so far.
    private var tails: [Tail] = []
    private var tailEnd = 0

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
        if !pendingReplay.isEmpty {
            let replay = pendingReplay + Array(chunk)
            pendingReplay = []
            return replay.withUnsafeBufferPointer { process($0) }
        }
        if let output = chunk.withContiguousStorageIfAvailable({ process($0) }) {
            return output
        }
        return Array(chunk).withUnsafeBufferPointer { process($0) }
    }

    /// Ends the stream, returning the bytes held back; the masker is then ready for a new stream.
    public mutating func finish() -> [UInt8] {
        var output = pendingReplay.isEmpty ? [] : mask([UInt8]())
        if markers.isHolding {
            // The stream ended inside a candidate: it was no marker, so its bytes are ordinary text.
            markers = SectionMarkerRecogniser()
            withTables { table, byteClass in
                replayMarkerCandidate(Window(chunk: UnsafeBufferPointer(start: nil, count: 0), chunkStart: position), table: table, byteClass: byteClass)
            }
        }
        let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        flush(upTo: position, chunk: empty, chunkStart: position, into: &output)
        rawState = 0
        viewState = 0
        parser = TerminalSequenceParser()
        markers = SectionMarkerRecogniser()
        markerHeld.removeAll()
        held.removeAll()
        ranges.removeAll()
        gaps.removeAll()
        rawRun = false
        viewRun = false
        tails.removeAll()
        exactUntil = 0
        return output
    }

    /// Bytes currently held back because they may still turn out to be part of a match.
    var heldByteCount: Int { held.count }

    /// The raw bytes held back because they may still begin a secret.
    public var heldBytes: [UInt8] { held }

    /// Bytes given to `init(rules:resumingFrom:)` that must be masked before the next chunk.
    private var pendingReplay: [UInt8] = []

    private var isConverged: Bool {
        rawState == viewState && parser.mode == .text && !rawRun && !viewRun && tails.isEmpty && markers.isIdle
    }

    private mutating func process(_ chunk: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let automaton = rules.automaton
        let chunkStart = position
        let count = chunk.count
        let window = Window(chunk: chunk, chunkStart: chunkStart)
        automaton.table.withUnsafeBufferPointer { table in
            automaton.byteClass.withUnsafeBufferPointer { byteClass in
                let firstSpecial = automaton.firstSpecialOffset
                let prefilter = rules.prefilter
                var index = 0
                while index < count {
                    if !isConverged {
                        step(chunk[index], at: chunkStart + index, window, table: table, byteClass: byteClass)
                        index += 1
                        continue
                    }
                    // Nothing pending at the root: the prefilter skips to where a match could begin.
                    if prefilter.isEnabled, viewState == 0, markers.armed == 0, chunkStart + index >= exactUntil {
                        let (restart, until) = prefilter.scan(chunk, from: index)
                        exactUntil = chunkStart + until
                        index = restart
                        rawState = 0
                        if index >= count { break }
                    }
                    // Hot path: both views agree, so one state serves both; leave on a match, a prefix or a control byte,
                    // and at the root once the prefilter may take over again.
                    let handBack = prefilter.isEnabled ? max(0, exactUntil - chunkStart) : Int.max
                    var current = viewState
                    var special = false
                    while index < count {
                        let next = table[Int(current) &+ Int(byteClass[Int(chunk[index])])]
                        if next >= firstSpecial {
                            special = true
                            break
                        }
                        current = next
                        index += 1
                        if next == 0, index >= handBack { break }
                    }
                    rawState = current
                    viewState = current
                    if special {
                        step(chunk[index], at: chunkStart + index, window, table: table, byteClass: byteClass)
                        index += 1
                    }
                }
            }
        }
        position += count
        var output: [UInt8] = []
        output.reserveCapacity(held.count + count + SecretMasker.replacementBytes.count)
        // The view's undecided bytes, and the encoded characters before them that a head may still claim.
        let viewLimit = headStart(
            viewStart(depth: Int(automaton.depth[Int(viewState) / automaton.classCount])), characters: automaton.maximumHead, window)
        var limit = min(position - Int(automaton.depth[Int(rawState) / automaton.classCount]), viewLimit)
        if viewRun { limit = min(limit, viewRunEnd) }
        if !tails.isEmpty { limit = min(limit, tailEnd) }
        if markers.isHolding { limit = min(limit, markerStart) }
        if let first = gaps.firstIndex(where: { $0.end > limit }) { gaps.removeFirst(first) } else { gaps.removeAll() }
        flush(upTo: limit, chunk: chunk, chunkStart: chunkStart, into: &output)
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

    /// The stream bytes not yet written: `held`, then the chunk being masked.
    struct Window {
        let chunk: UnsafeBufferPointer<UInt8>
        let chunkStart: Int
    }

    /// The stream byte at `offset` if it is not written yet.
    private func byte(at offset: Int, _ window: Window) -> UInt8? {
        if offset >= window.chunkStart { return offset - window.chunkStart < window.chunk.count ? window.chunk[offset - window.chunkStart] : nil }
        let index = offset - (window.chunkStart - held.count)
        return offset >= emitCursor && index >= 0 ? held[index] : nil
    }

    /// `start` moved back over up to `characters` visible encoded characters before it (a variant's head).
    ///
    /// The bytes a head may claim are always still held: the limit of what is written leaves them out (even inside a
    /// `[MASKED]` already written, whose bytes stay held while a range may still grow from them).
    private func headStart(_ start: Int, characters: UInt8, _ window: Window) -> Int {
        var start = start
        for _ in 0..<characters {
            let previous = self.start(ofVisible: 1, endingAt: start)
            guard let byte = byte(at: previous, window), Self.isEncodedCharacter(byte) else { break }
            start = previous
        }
        return start
    }

    /// The stream position of the first of the last `depth` visible bytes (the view's undecided bytes); `position` if none.
    ///
    /// A held marker candidate has not reached the view yet, so the view ends where it starts.
    private func viewStart(depth: Int) -> Int {
        let end = markers.isHolding ? markerStart : position
        guard depth > 0 else { return end }
        return start(ofVisible: depth, endingAt: end)
    }

    private func withTables<R>(_ body: (UnsafeBufferPointer<UInt32>, UnsafeBufferPointer<UInt8>) -> R) -> R {
        rules.automaton.table.withUnsafeBufferPointer { table in rules.automaton.byteClass.withUnsafeBufferPointer { body(table, $0) } }
    }

    /// The stream position where `count` visible bytes ending at `end` begin, skipping the gaps between them.
    private func start(ofVisible count: Int, endingAt end: Int) -> Int {
        var cursor = end
        var remaining = count
        var index = gaps.count - 1
        while index >= 0, gaps[index].start >= cursor { index -= 1 }
        while index >= 0 {
            let gap = gaps[index]
            let visible = cursor - gap.end
            if remaining <= visible { return cursor - remaining }
            remaining -= visible
            cursor = gap.start
            index -= 1
        }
        return cursor - remaining
    }

    /// One byte the slow way: the raw view and the normalised view each advance, token runs and tails grow.
    private mutating func step(_ byte: UInt8, at offset: Int, _ window: Window, table: UnsafeBufferPointer<UInt32>, byteClass: UnsafeBufferPointer<UInt8>) {
        let automaton = rules.automaton
        let firstSpecial = automaton.firstSpecialOffset
        let symbol = Int(byteClass[Int(byte)])
        let isToken = Self.isTokenByte(byte)

        // The raw bytes, as GitLab sees them: what hides inside an escape sequence is still matched.
        if rawRun {
            if isToken { addRange(start: offset, end: offset + 1) } else { rawRun = false }
        }
        if TerminalSequenceParser.isControl(byte) {
            rawState = 0
        } else {
            rawState = table[Int(rawState) &+ symbol]
            if rawState >= firstSpecial {
                let special = Int(rawState - firstSpecial) / automaton.classCount
                let length = Int(automaton.matchLength[special])
                if length > 0 { addRange(start: offset + 1 - length, end: offset + 1) }
                if automaton.endsPrefix[special] { rawRun = true }
            }
        }

        // The normalised view: transparent bytes are skipped, a secret around them is masked whole.
        let kind = parser.classify(byte)
        var outcome = markers.feed(byte)
        if outcome == .rejected {
            replayMarkerCandidate(window, table: table, byteClass: byteClass)
            outcome = markers.feed(byte)
        }
        switch outcome {
        case .pass:
            viewStep(byte, kind: kind, at: offset, window, table: table, byteClass: byteClass)
        case .pending:
            if markerHeld.isEmpty { markerStart = offset }
            markerHeld.append(byte)
        case .complete:
            // A whole section marker: one transparent run, like an escape sequence.
            addGap(start: markerStart, end: offset + 1)
            markerHeld.removeAll(keepingCapacity: true)
        case .rejected:
            preconditionFailure("a byte fed again after a rejected candidate starts no candidate it must reject")
        }
    }

    /// Feeds a rejected marker candidate's held bytes to the view as what they are: text, then control bytes.
    private mutating func replayMarkerCandidate(_ window: Window, table: UnsafeBufferPointer<UInt32>, byteClass: UnsafeBufferPointer<UInt8>) {
        let bytes = markerHeld
        markerHeld.removeAll(keepingCapacity: true)
        for (index, byte) in bytes.enumerated() {
            let kind: TerminalSequenceParser.Kind = SectionMarkerRecogniser.isVisible(bytes, at: index) ? .visible : .transparent
            viewStep(byte, kind: kind, at: markerStart + index, window, table: table, byteClass: byteClass)
        }
    }

    /// Records the transparent stream bytes [start, end), joining a run they continue; a run too long breaks the view.
    private mutating func addGap(start: Int, end: Int) {
        if let last = gaps.last, last.end == start {
            gaps[gaps.count - 1].end = end
        } else {
            gaps.append(Gap(start: start, end: end))
        }
        if end - gaps[gaps.count - 1].start > Self.maximumGap {
            viewState = 0
            viewRun = false
            tails.removeAll()
        }
    }

    /// One byte of the normalised view, with its kind.
    private mutating func viewStep(
        _ byte: UInt8, kind: TerminalSequenceParser.Kind, at offset: Int, _ window: Window, table: UnsafeBufferPointer<UInt32>, byteClass: UnsafeBufferPointer<UInt8>
    ) {
        let automaton = rules.automaton
        let firstSpecial = automaton.firstSpecialOffset
        let symbol = Int(byteClass[Int(byte)])
        let isToken = Self.isTokenByte(byte)
        switch kind {
        case .transparent, .lineBreak:
            if kind == .lineBreak { viewRun = false }
            addGap(start: offset, end: offset + 1)
        case .visible:
            if !tails.isEmpty {
                var covered = false
                var index = 0
                while index < tails.count {
                    var tail = tails[index]
                    var alive = false
                    // The group's remaining characters, or `=` padding for them; after the first `=` only `=`.
                    if tail.padding < 2, Self.isEncodedCharacter(byte) {
                        tail.characters -= 1
                        alive = true
                    } else if tail.padding > 0, byte == UInt8(ascii: "=") {
                        tail.characters -= 1
                        tail.padding = 2
                        alive = true
                    }
                    covered = covered || alive
                    if alive, tail.characters > 0 {
                        tails[index] = tail
                        index += 1
                    } else {
                        tails.remove(at: index)
                    }
                }
                if covered {
                    addRange(start: tailEnd, end: offset + 1)
                    tailEnd = offset + 1
                }
            }
            if viewRun {
                if isToken {
                    addRange(start: viewRunEnd, end: offset + 1)
                    viewRunEnd = offset + 1
                } else {
                    viewRun = false
                }
            }
            viewState = table[Int(viewState) &+ symbol]
            if viewState >= firstSpecial {
                let special = Int(viewState - firstSpecial) / automaton.classCount
                let length = Int(automaton.matchLength[special])
                if length > 0 {
                    addRange(start: headStart(start(ofVisible: length, endingAt: offset + 1), characters: automaton.head[special], window), end: offset + 1)
                    let tail = Tail(characters: automaton.tailCharacters[special], padding: automaton.tailPadding[special])
                    if tail.characters > 0 {
                        tails.append(tail)
                        tailEnd = offset + 1
                    }
                }
                if automaton.endsPrefix[special] {
                    viewRun = true
                    viewRunEnd = offset + 1
                }
            }
        }
    }

    /// Adds a masked range, merging it with the ranges it overlaps or touches.
    ///
    /// Ranges mostly arrive in order of their end; a replayed marker candidate can add one before a later raw match.
    private mutating func addRange(start: Int, end: Int) {
        if let last = ranges.last, last.end == start {
            ranges[ranges.count - 1].end = end
            return
        }
        var merged = MaskedRange(start: start, end: end, emitted: false)
        // Ranges wholly after the new one stay; find the last one that begins at or before its end.
        var upper = ranges.count
        while upper > 0, ranges[upper - 1].start > merged.end { upper -= 1 }
        var lower = upper
        while lower > 0, ranges[lower - 1].end >= merged.start {
            lower -= 1
            merged.start = min(merged.start, ranges[lower].start)
            merged.end = max(merged.end, ranges[lower].end)
            merged.emitted = merged.emitted || ranges[lower].emitted
        }
        ranges.replaceSubrange(lower..<upper, with: [merged])
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
            // Inside a range still open, the bytes from `limit` on stay held: a head may reach back into them.
            emitCursor = max(emitCursor, min(range.end, limit))
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

    /// The characters of any base64 or base32 alphabet, which an encoded group's tail may consist of.
    static func isEncodedCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default:
            false
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

extension SecretMasker {
    /// The state's first bytes; the last is the layout version (1: before section markers, still read).
    private static let stateMagic: [UInt8] = [0xFF, 0x00, 0x4C, 0x4B, 0x4D, 0x02]

    /// The masker's whole state, to store between trace requests; `init(rules:resumingFrom:)` continues the stream from it.
    ///
    /// Besides the held bytes it keeps what they alone cannot tell: that a token run or an encoded group is open,
    /// the automaton states, an unfinished escape sequence. A masker resumed with the same rules gives exactly the
    /// output an uninterrupted one would.
    public var resumeState: [UInt8] {
        var out = Self.stateMagic
        func put(_ value: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }
        func put(_ value: Int) { put(UInt64(bitPattern: Int64(value))) }
        put(rules.fingerprint)
        put(position)
        put(UInt64(rawState))
        put(UInt64(viewState))
        put(UInt64(parser.mode.rawValue))
        put(parser.length)
        put(UInt64((rawRun ? 1 : 0) | (viewRun ? 2 : 0)))
        put(viewRunEnd)
        put(tailEnd)
        put(tails.count)
        for tail in tails { put(UInt64(tail.characters) | UInt64(tail.padding) << 8) }
        put(gaps.count)
        for gap in gaps {
            put(gap.start)
            put(gap.end)
        }
        put(ranges.count)
        for range in ranges {
            put(range.start)
            put(range.end)
            put(UInt64(range.emitted ? 1 : 0))
        }
        put(UInt64(markers.armed) | UInt64(markers.phase.rawValue) << 8 | UInt64(markers.alive) << 16)
        put(markers.count)
        put(markerStart)
        put(markerHeld.count)
        out += markerHeld
        put(held.count)
        out += held
        return out
    }

    /// Creates a masker that continues the stream `state` (a `resumeState`, or raw held bytes from older versions) was taken from.
    ///
    /// If the rules changed since (a variable was edited during the job), the automaton states cannot be reused;
    /// the held bytes are then masked whole rather than risk letting half a secret through.
    public init(rules: SecretMaskingRules, resumingFrom state: [UInt8]) {
        self.init(rules: rules)
        guard !state.isEmpty else { return }
        let version = state.count >= Self.stateMagic.count ? state[Self.stateMagic.count - 1] : 0
        guard state.starts(with: Self.stateMagic.dropLast()), version == 1 || version == 2 else {
            pendingReplay = state
            return
        }
        var cursor = Self.stateMagic.count
        func get() -> UInt64? {
            guard cursor + 8 <= state.count else { return nil }
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(state[cursor + index]) << UInt64(8 * index) }
            cursor += 8
            return value
        }
        func getInt(_ range: ClosedRange<Int> = 0...Int.max) -> Int? {
            guard let raw = get() else { return nil }
            let value = Int(Int64(bitPattern: raw))
            return range.contains(value) ? value : nil
        }
        let automaton = rules.automaton
        func isState(_ raw: UInt64) -> Bool {
            raw < UInt64(automaton.table.count) && raw % UInt64(automaton.classCount) == 0 && raw != UInt64(automaton.stopOffset)
        }
        guard let fingerprint = get(), let position = getInt(), let raw = get(), let view = get(), let mode = get(), let length = getInt(),
            let parser = TerminalSequenceParser(mode: UInt8(truncatingIfNeeded: mode), length: length), mode < 8, let flags = get(),
            let viewRunEnd = getInt(0...position), let tailEnd = getInt(0...position), let tailCount = getInt(0...64)
        else { return }
        var tails: [Tail] = []
        for _ in 0..<tailCount {
            guard let raw = get() else { return }
            tails.append(Tail(characters: UInt8(truncatingIfNeeded: raw), padding: UInt8(truncatingIfNeeded: raw >> 8)))
        }
        guard let gapCount = getInt(0...(state.count / 16)) else { return }
        var gaps: [Gap] = []
        for _ in 0..<gapCount {
            guard let start = getInt(0...position), let end = getInt(start...position) else { return }
            gaps.append(Gap(start: start, end: end))
        }
        guard let rangeCount = getInt(0...(state.count / 24)) else { return }
        var ranges: [MaskedRange] = []
        for _ in 0..<rangeCount {
            guard let start = getInt(0...position), let end = getInt(start...Int.max), let emitted = get() else { return }
            ranges.append(MaskedRange(start: start, end: end, emitted: emitted == 1))
        }
        var markers = SectionMarkerRecogniser()
        var markerStart = 0
        var markerHeld: [UInt8] = []
        if version >= 2 {
            guard let packed = get(), let count = getInt(0...SectionMarkerRecogniser.maximumLength), let start = getInt(0...position),
                let recogniser = SectionMarkerRecogniser(
                    armed: UInt8(truncatingIfNeeded: packed), phase: UInt8(truncatingIfNeeded: packed >> 8), count: count,
                    alive: UInt8(truncatingIfNeeded: packed >> 16)),
                let heldCount = getInt(0...SectionMarkerRecogniser.maximumLength), cursor + heldCount <= state.count,
                recogniser.isHolding == (heldCount > 0)
            else { return }
            markers = recogniser
            markerStart = start
            markerHeld = Array(state[cursor..<(cursor + heldCount)])
            cursor += heldCount
        }
        guard let heldCount = getInt(0...position), cursor + heldCount == state.count else { return }
        guard !markers.isHolding || markerStart >= position - heldCount && markerStart + markerHeld.count == position else { return }
        self.position = position
        self.emitCursor = position - heldCount
        self.held = Array(state[cursor...])
        self.parser = parser
        self.rawRun = flags & 1 != 0
        self.viewRun = flags & 2 != 0
        self.viewRunEnd = viewRunEnd
        self.tailEnd = tailEnd
        self.tails = tails
        self.gaps = gaps
        self.ranges = ranges
        self.markers = markers
        self.markerStart = markerStart
        self.markerHeld = markerHeld
        if fingerprint == rules.fingerprint, isState(raw), isState(view) {
            self.rawState = UInt32(raw)
            self.viewState = UInt32(view)
        } else if heldCount > 0 {
            addRange(start: emitCursor, end: position)
        }
    }
}

