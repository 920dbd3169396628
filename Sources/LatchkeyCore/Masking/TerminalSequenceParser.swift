/// Classifies trace bytes for the masker's normalised view: what a terminal shows, and what it swallows.
///
/// Bytes a terminal does not print — control characters other than tab, `DEL`, and whole escape sequences
/// (`ESC [ … final` CSI, `ESC ] … BEL` or `ESC ] … ESC \` OSC, `ESC` intermediates final) — are *transparent*:
/// matching skips them, so `glc\e[0mbt-…` or a secret with a `\r` or a NUL (UTF-16) inside is still one match.
/// A line feed is transparent too (wrapped base64 and hex) but ends a token run. A sequence that runs past
/// its length limit, or is cut by a control character, ends there and the byte is read again as ordinary text,
/// so an unterminated `ESC ]` cannot hide what follows it for more than `maximumOSCLength` bytes.
struct TerminalSequenceParser: Sendable, Equatable {
    /// How a byte takes part in the normalised view.
    enum Kind: UInt8 {
        /// A printed byte: matched.
        case visible = 0
        /// Skipped by matching; a token run continues across it.
        case transparent = 1
        /// Skipped by matching, and ends a token run (a line feed).
        case lineBreak = 2
    }

    enum Mode: UInt8 {
        case text = 0, escape, intermediate, csi, osc
    }

    static let maximumCSILength = 64
    static let maximumOSCLength = 4096
    static let escape: UInt8 = 0x1B

    private(set) var mode: Mode = .text
    /// Bytes of the current sequence so far, including its `ESC`.
    private(set) var length: Int = 0

    init() {}

    init?(mode rawMode: UInt8, length: Int) {
        guard let mode = Mode(rawValue: rawMode), length >= 0, length <= Self.maximumOSCLength else { return nil }
        self.mode = mode
        self.length = mode == .text ? 0 : length
    }

    /// Whether `byte` is a control byte that no pattern may contain: C0 except tab, and `DEL`.
    static func isControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x09) || byte == 0x7F
    }

    /// The control bytes, every one of which leaves the masker's fast path.
    static let controlBytes: [UInt8] = (0...255).map { UInt8($0) }.filter { isControl($0) }

    /// Classifies the next byte of the stream.
    mutating func classify(_ byte: UInt8) -> Kind {
        switch mode {
        case .text:
            return classifyText(byte)
        case .escape:
            switch byte {
            case UInt8(ascii: "["):
                mode = .csi
            case UInt8(ascii: "]"):
                mode = .osc
            case 0x20...0x2F:
                mode = .intermediate
            case 0x30...0x7E:
                mode = .text
            default:
                return restart(byte)
            }
            length += 1
            if mode == .text { length = 0 }
            return .transparent
        case .intermediate:
            switch byte {
            case 0x20...0x2F where length < Self.maximumCSILength:
                length += 1
            case 0x30...0x7E:
                mode = .text
                length = 0
            default:
                return restart(byte)
            }
            return .transparent
        case .csi:
            switch byte {
            case 0x20...0x3F where length < Self.maximumCSILength:
                length += 1
            case 0x40...0x7E:
                mode = .text
                length = 0
            default:
                return restart(byte)
            }
            return .transparent
        case .osc:
            switch byte {
            case 0x07:
                mode = .text
                length = 0
            case Self.escape:
                // `ESC \` is the string terminator; any other escape ends the OSC and starts its own sequence.
                mode = .escape
                length = 1
            case _ where Self.isControl(byte) || length >= Self.maximumOSCLength:
                return restart(byte)
            default:
                length += 1
            }
            return .transparent
        }
    }

    private mutating func restart(_ byte: UInt8) -> Kind {
        mode = .text
        length = 0
        return classifyText(byte)
    }

    private mutating func classifyText(_ byte: UInt8) -> Kind {
        if byte == Self.escape {
            mode = .escape
            length = 1
            return .transparent
        }
        if byte == 0x0A { return .lineBreak }
        return Self.isControl(byte) ? .transparent : .visible
    }

    /// The visible bytes of `bytes` read from the start of a stream: what matching sees.
    static func visibleBytes(of bytes: [UInt8]) -> [UInt8] {
        var parser = TerminalSequenceParser()
        return bytes.filter { parser.classify($0) == .visible }
    }
}
