/// Finds where the masker may skip the automaton: stretches of plain text in which no pattern, prefix or head can occur.
///
/// The masker hands over only when it knows nothing is pending (both views at the root state, no escape, marker, token
/// run or tail open). From there the prefilter reads the chunk a segment at a time — the bytes up to the next control
/// byte — and proves that no occurrence starts in it, or says from where the automaton must run again:
///
/// - **Windows.** Every pattern is at least `minimumLength` (m) bytes long. A filter (two hashes of each 4-byte window)
///   holds the windows at offsets 0…m−4 of every pattern. It is probed at every `stride` = m−3 bytes of a segment, so a
///   contiguous occurrence always covers a probed window it holds (FDR's idea, without SIMD). A hit at g restarts the
///   automaton at g − (m−4), where the earliest occurrence that window could belong to starts.
/// - **Token prefixes.** A SWAR scan finds their first two bytes (with the control bytes) eight bytes at a time.
/// - **Gaps.** A run of control bytes is transparent in the normalised view. An occurrence is found at the first gap
///   it spans, where a unprobed segment holds fewer than m of its bytes (its "before" part, a ≤ m−1 bytes). If a ≥ 4,
///   the four bytes before the gap are a window the filter holds and the bytes either side are a pair adjacent in a
///   pattern (a 64 Ki-bit table): the automaton restarts `lookBehind` bytes before the gap. If a < 4, the pair is in a
///   prefix, or it is among a pattern's first four bytes or a head's encoded characters before a pattern and the
///   filter holds the window after the gap (or one byte later, for a two-character head), which is then one of the
///   pattern's windows at offset 0…3: it restarts three bytes before the gap. A run with `ESC` in it (escape sequences,
///   section markers), or one the chunk ends in, always restarts.
/// - **Chunk end.** An occurrence may continue in the next chunk: the automaton runs over the last `longest` − 1 bytes.
///
/// Restarting at the root is sound because no occurrence in either view starts between the hand-over and the restart
/// point; the property tests compare the result with the reference masker byte for byte.
struct MaskingPrefilter: Sendable {
    static let window = 4

    /// False when the rules are unfit (a pattern shorter than 8 bytes, prefixes with more than two distinct first two bytes).
    let isEnabled: Bool
    let minimumLength: Int
    let stride: Int
    /// The bytes before a gap or the chunk's end from which the automaton must run: max(m, longest prefix) − 1.
    let lookBehind: Int
    /// The window filter: `bits` is a power of two; each window sets two bits.
    let filter: [UInt64]
    let filterShift: UInt32
    /// Byte pairs adjacent in some pattern or prefix: bit `a << 8 | b`.
    let pairs: [UInt64]
    /// Byte pairs that may span a gap a pattern has fewer than four bytes before: among its first four bytes, or the
    /// encoded characters a head may take before a pattern.
    let earlyPairs: [UInt64]
    /// Byte pairs adjacent in a prefix.
    let prefixPairs: [UInt64]
    /// Whether a head may take two characters (so a pattern may begin one byte after a gap with a head before it).
    let hasLongHeads: Bool
    /// The distinct first two bytes of the prefixes (at most two), `b0 | b1 << 8`, which the SWAR scan looks for.
    let prefixStarts: [UInt16]

    init(patterns: [[UInt8]], heads: [UInt8], prefixes: [[UInt8]]) {
        let minimum = patterns.map(\.count).min() ?? Int.max
        let starts = Array(Set(prefixes.filter { $0.count >= 2 }.map { UInt16($0[0]) | UInt16($0[1]) << 8 })).sorted()
        let window = Self.window
        guard !patterns.isEmpty, minimum >= 8, starts.count <= 2, prefixes.allSatisfy({ $0.count >= 2 }) else {
            isEnabled = false
            minimumLength = 0
            stride = 1
            lookBehind = 0
            filter = [0]
            filterShift = 31
            pairs = []
            earlyPairs = []
            prefixPairs = []
            hasLongHeads = false
            prefixStarts = []
            return
        }
        isEnabled = true
        minimumLength = minimum
        stride = minimum - window + 1
        lookBehind = max(minimum, prefixes.map(\.count).max() ?? 0) - 1
        let windowCount = patterns.count * stride
        // About 32 bits a window (k = 2: ~0.4 % false hits), 4 Ki bits to 4 Mi bits (512 KiB, within L2).
        var bitsLog = 12
        while bitsLog < 22, 1 << bitsLog < windowCount * 32 { bitsLog += 1 }
        var filter = [UInt64](repeating: 0, count: (1 << bitsLog) / 64)
        let shift = UInt32(32 - bitsLog)
        func addWindow(_ bytes: [UInt8], at offset: Int) {
            let value = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
            let (first, second) = Self.hashes(value, shift: shift)
            for hash in [first, second] { filter[Int(hash >> 6)] |= 1 << UInt64(hash & 63) }
        }
        for pattern in patterns {
            for offset in 0..<stride { addWindow(pattern, at: offset) }
        }
        // A prefix cut by a gap after four or more of its bytes is found by its window before the gap.
        for prefix in prefixes where prefix.count >= window {
            for offset in 0...(prefix.count - window) { addWindow(prefix, at: offset) }
        }
        var pairs = [UInt64](repeating: 0, count: 65536 / 64)
        var earlyPairs = pairs
        func set(_ table: inout [UInt64], _ a: UInt8, _ b: UInt8) {
            let bit = Int(a) << 8 | Int(b)
            table[bit >> 6] |= 1 << UInt64(bit & 63)
        }
        for pattern in patterns + prefixes {
            for index in 1..<pattern.count { set(&pairs, pattern[index - 1], pattern[index]) }
        }
        for pattern in patterns {
            for index in 1..<window { set(&earlyPairs, pattern[index - 1], pattern[index]) }
        }
        var prefixPairs = pairs.map { _ in UInt64(0) }
        for prefix in prefixes {
            for index in 1..<prefix.count { set(&prefixPairs, prefix[index - 1], prefix[index]) }
        }
        let encoded = (0...255).map(UInt8.init).filter(SecretMasker.isEncodedCharacter)
        for (index, pattern) in patterns.enumerated() where heads[index] > 0 {
            for byte in encoded { set(&earlyPairs, byte, pattern[0]) }
        }
        if (heads.max() ?? 0) >= 2 {
            for first in encoded { for second in encoded { set(&earlyPairs, first, second) } }
        }
        self.filter = filter
        self.filterShift = shift
        self.pairs = pairs
        self.earlyPairs = earlyPairs
        self.prefixPairs = prefixPairs
        self.hasLongHeads = (heads.max() ?? 0) >= 2
        self.prefixStarts = starts
    }

    @inline(__always)
    static func hashes(_ value: UInt32, shift: UInt32) -> (UInt32, UInt32) {
        ((value &* 0x9E37_79B1) >> shift, ((value ^ (value >> 15)) &* 0x85EB_CA77) >> shift)
    }

    /// Whether the filter holds the window at `offset`.
    @inline(__always)
    private func holds(_ raw: UnsafeRawPointer, at offset: Int, _ filter: UnsafeBufferPointer<UInt64>) -> Bool {
        let value = raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        let (first, second) = Self.hashes(value, shift: filterShift)
        return filter[Int(first >> 6)] & (1 << UInt64(first & 63)) != 0 && filter[Int(second >> 6)] & (1 << UInt64(second & 63)) != 0
    }

    @inline(__always)
    private static func isControl(_ byte: UInt8) -> Bool { (byte < 0x20 && byte != 0x09) || byte == 0x7F }

    /// Scans `bytes[start...]` from a root state with nothing pending.
    ///
    /// Returns where the automaton must take over (`restart`, at or after `start`) and the index before which the masker
    /// should not hand back to the prefilter (the end of what caused the restart). `restart == bytes.count` means the rest
    /// of the chunk holds nothing.
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (restart: Int, until: Int) {
        let count = bytes.count
        guard let base = bytes.baseAddress, start < count else { return (count, count) }
        let raw = UnsafeRawPointer(base)
        let lows: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let below20: UInt64 = 0x2020_2020_2020_2020
        let hasNeedles = !prefixStarts.isEmpty
        let twoNeedles = prefixStarts.count > 1
        let start0 = prefixStarts.first ?? 0
        let start1 = prefixStarts.count > 1 ? prefixStarts[1] : start0
        let first0 = UInt64(start0 & 0xFF) &* lows
        let second0 = UInt64(start0 >> 8) &* lows
        let first1 = UInt64(start1 & 0xFF) &* lows
        let second1 = UInt64(start1 >> 8) &* lows
        return filter.withUnsafeBufferPointer { filter in
            pairs.withUnsafeBufferPointer { pairs in earlyPairs.withUnsafeBufferPointer { earlyPairs in
                var segment = start
                while true {
                    // The segment's end (the next control byte) and its first prefix candidate.
                    var cursor = segment
                    var prefixAt = Int.max
                    var control = count
                    scanning: while true {
                        // Eight bytes at a time to the first control byte or prefix start (SWAR; the lowest flag is exact,
                        // higher ones may be false and are read again). `DEL` is found as `x + 1` reaching the high bit.
                        @inline(__always)
                        func flags(_ offset: Int) -> UInt64 {
                            let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                            var mask = ((word &- below20) & ~word) | ((word &+ lows) & ~word)
                            if hasNeedles {
                                let next = raw.loadUnaligned(fromByteOffset: offset &+ 1, as: UInt64.self)
                                let a0 = word ^ first0
                                let b0 = next ^ second0
                                mask |= (a0 &- lows) & ~a0 & (b0 &- lows) & ~b0
                                if twoNeedles {
                                    let a1 = word ^ first1
                                    let b1 = next ^ second1
                                    mask |= (a1 &- lows) & ~a1 & (b1 &- lows) & ~b1
                                }
                            }
                            return mask & highs
                        }
                        var found = false
                        while cursor &+ 17 <= count {
                            let low = flags(cursor)
                            let high = flags(cursor &+ 8)
                            if low | high == 0 {
                                cursor &+= 16
                                continue
                            }
                            cursor &+= low != 0 ? low.trailingZeroBitCount >> 3 : 8 &+ high.trailingZeroBitCount >> 3
                            found = true
                            break
                        }
                        while !found, cursor &+ 9 <= count {
                            let mask = flags(cursor)
                            if mask == 0 {
                                cursor &+= 8
                                continue
                            }
                            cursor &+= mask.trailingZeroBitCount >> 3
                            break
                        }
                        guard cursor < count else { break scanning }
                        let byte = base[cursor]
                        if Self.isControl(byte) {
                            control = cursor
                            break scanning
                        }
                        if prefixAt == Int.max, cursor &+ 1 < count {
                            let two = UInt16(byte) | UInt16(base[cursor &+ 1]) << 8
                            if two == start0 || two == start1 { prefixAt = cursor }
                        }
                        cursor &+= 1
                    }
                    // Probe the windows of [segment, control).
                    var restart = prefixAt
                    var until = prefixAt == Int.max ? 0 : prefixAt + 2
                    var probe = segment
                    // Every probe up to the first hit, even past a prefix candidate: an occurrence starting just before
                    // the candidate may have its probed window after it.
                    while probe + Self.window <= control {
                        let value = raw.loadUnaligned(fromByteOffset: probe, as: UInt32.self)
                        let (first, second) = Self.hashes(value, shift: filterShift)
                        if filter[Int(first >> 6)] & (1 << UInt64(first & 63)) != 0, filter[Int(second >> 6)] & (1 << UInt64(second & 63)) != 0 {
                            restart = min(restart, probe - (minimumLength - Self.window))
                            until = max(until, probe + Self.window)
                            break
                        }
                        probe += stride
                    }
                    // The gap after the segment, or the chunk's end.
                    var next = control
                    while next < count, Self.isControl(base[next]), base[next] != 0x1B { next += 1 }
                    var behind = 0
                    if control == count || next == count || base[next] == 0x1B || control == segment {
                        behind = lookBehind
                    } else {
                        let bit = Int(base[control - 1]) << 8 | Int(base[next])
                        if control - segment >= Self.window, pairs[bit >> 6] & (1 << UInt64(bit & 63)) != 0 {
                            let value = raw.loadUnaligned(fromByteOffset: control - Self.window, as: UInt32.self)
                            let (first, second) = Self.hashes(value, shift: filterShift)
                            if filter[Int(first >> 6)] & (1 << UInt64(first & 63)) != 0, filter[Int(second >> 6)] & (1 << UInt64(second & 63)) != 0 {
                                behind = lookBehind
                            }
                        }
                        if behind == 0, prefixPairs[bit >> 6] & (1 << UInt64(bit & 63)) != 0 { behind = Self.window - 1 }
                        if behind == 0, earlyPairs[bit >> 6] & (1 << UInt64(bit & 63)) != 0 {
                            // A pattern with one to three bytes (or only its head) before the gap: the four bytes after the
                            // gap, or after one more (a second head character), are one of its windows at offset 0…3.
                            let needed = hasLongHeads ? Self.window + 1 : Self.window
                            var contiguous = next + needed <= count
                            var index = next
                            while contiguous, index < next + needed {
                                if Self.isControl(base[index]) { contiguous = false }
                                index += 1
                            }
                            if !contiguous || holds(raw, at: next, filter) || (hasLongHeads && holds(raw, at: next + 1, filter)) {
                                behind = Self.window - 1
                            }
                        }
                    }
                    if behind > 0 {
                        restart = min(restart, control - behind)
                        until = max(until, next)
                    }
                    if restart != Int.max { return (max(restart, segment), until) }
                    segment = next
                }
            } }
        }
    }
}
