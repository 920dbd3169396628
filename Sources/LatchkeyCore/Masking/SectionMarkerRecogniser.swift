/// Recognises GitLab's trace section markers, which the masker's normalised view skips like escape sequences.
///
/// A complete marker is `ESC[0K` then `section_start:<digits>:<name>[<options>]` (or `section_end:`), then `\r ESC[0K`;
/// the name is `[A-Za-z0-9_.-]`, the options (optional) printable ASCII without `]`. Only a complete marker is transparent:
/// its text is visible until the closing `ESC[0K` arrives, so the masker holds the candidate back and replays it as
/// ordinary text when it turns out not to be a marker. Every part has a length limit, bounding what is held back.
/// A marker's closing `ESC[0K` may open the next one.
struct SectionMarkerRecogniser: Sendable, Equatable {
    /// What the recogniser made of a byte.
    enum Outcome: Equatable {
        /// Not part of a marker candidate: the caller matches it as usual.
        case pass
        /// Held as part of a candidate.
        case pending
        /// Completes a marker: every held byte and this one are transparent.
        case complete
        /// Ends a candidate that is no marker: the held bytes are ordinary text, and this byte must be fed again.
        case rejected
    }

    enum Phase: UInt8 {
        case idle = 0, literal, digits, name, options, closed, trailer
    }

    static let literals = [Array("section_start:".utf8), Array("section_end:".utf8)]
    static let eraseLine: [UInt8] = [0x1B, UInt8(ascii: "["), UInt8(ascii: "0"), UInt8(ascii: "K")]
    static let maximumDigits = 20
    static let maximumName = 256
    static let maximumOptions = 256
    /// The most bytes a candidate can hold: `section_start:`, digits, `:`, name, `[`, options, `]`, `\r ESC[0K`.
    static let maximumLength = 14 + maximumDigits + 1 + maximumName + 1 + maximumOptions + 1 + 5

    /// How much of `ESC[0K` the last bytes outside a candidate were; 4 means all of it, so a marker may start.
    private(set) var armed: UInt8 = 0
    private(set) var phase: Phase = .idle
    /// Bytes of the current phase so far.
    private(set) var count: Int = 0
    /// In the literal phase, which of `literals` still match (bit per literal).
    private(set) var alive: UInt8 = 0

    init() {}

    init?(armed: UInt8, phase rawPhase: UInt8, count: Int, alive: UInt8) {
        guard armed <= 4, let phase = Phase(rawValue: rawPhase), (0...Self.maximumLength).contains(count), alive <= 3 else { return nil }
        self.armed = armed
        self.phase = phase
        self.count = count
        self.alive = alive
    }

    /// Whether a candidate is held or a marker may start at the next byte.
    var isIdle: Bool { phase == .idle && armed != 4 }

    /// Whether a candidate is being held.
    var isHolding: Bool { phase != .idle }

    /// Reads the next byte of the stream.
    mutating func feed(_ byte: UInt8) -> Outcome {
        switch phase {
        case .idle:
            if armed == 4, byte == UInt8(ascii: "s") {
                armed = 0
                phase = .literal
                count = 1
                alive = 3
                return .pending
            }
            if byte == Self.eraseLine[0] {
                armed = 1
            } else if armed > 0, armed < 4, byte == Self.eraseLine[Int(armed)] {
                armed += 1
            } else {
                armed = 0
            }
            return .pass
        case .literal:
            var next: UInt8 = 0
            for (index, literal) in Self.literals.enumerated() where alive & (1 << index) != 0 {
                if count < literal.count, literal[count] == byte { next |= 1 << index }
            }
            guard next != 0 else { return reject() }
            alive = next
            count += 1
            if Self.literals.enumerated().contains(where: { next & (1 << $0.offset) != 0 && $0.element.count == count }) {
                phase = .digits
                count = 0
            }
            return .pending
        case .digits:
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), count < Self.maximumDigits {
                count += 1
                return .pending
            }
            guard byte == UInt8(ascii: ":"), count > 0 else { return reject() }
            phase = .name
            count = 0
            return .pending
        case .name:
            if Self.isNameByte(byte), count < Self.maximumName {
                count += 1
                return .pending
            }
            guard count > 0, byte == UInt8(ascii: "[") || byte == 0x0D else { return reject() }
            phase = byte == 0x0D ? .trailer : .options
            count = byte == 0x0D ? 1 : 0
            return .pending
        case .options:
            if byte == UInt8(ascii: "]") {
                phase = .closed
                return .pending
            }
            guard byte >= 0x20, byte <= 0x7E, count < Self.maximumOptions else { return reject() }
            count += 1
            return .pending
        case .closed:
            guard byte == 0x0D else { return reject() }
            phase = .trailer
            count = 1
            return .pending
        case .trailer:
            // `count` is 1 after the `\r`, then counts the bytes of `ESC[0K` matched plus one.
            guard byte == Self.eraseLine[count - 1] else { return reject() }
            count += 1
            guard count == 5 else { return .pending }
            phase = .idle
            count = 0
            armed = 4
            return .complete
        }
    }

    /// Whether the `index`-th held byte is visible text (before the candidate's `\r`) rather than part of its `\r ESC[0K`.
    static func isVisible(_ held: [UInt8], at index: Int) -> Bool {
        guard let carriageReturn = held.firstIndex(of: 0x0D) else { return true }
        return index < carriageReturn
    }

    private mutating func reject() -> Outcome {
        phase = .idle
        count = 0
        alive = 0
        armed = 0
        return .rejected
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
