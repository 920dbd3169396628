/// A job trace as a terminal shows it: lines of styled text, some of them heading GitLab's collapsible sections.
///
/// Invariant: every line feed of the parsed bytes ends exactly one line, so line `n` (0-based) is the text after the
/// `n`-th line feed; a last line without a line feed is kept only when it shows something or heads a section.
public struct JobLog: Sendable, Equatable {
    public var lines: [JobLogLine]

    public init(lines: [JobLogLine]) {
        self.lines = lines
    }
}

/// One line of a job log.
public struct JobLogLine: Sendable, Equatable {
    public var segments: [JobLogSegment]
    /// How many sections contain the line; a header line counts only the sections around its own.
    public var depth: Int
    /// The section this line heads, if any.
    public var section: JobLogSection?

    public init(segments: [JobLogSegment], depth: Int = 0, section: JobLogSection? = nil) {
        self.segments = segments
        self.depth = depth
        self.section = section
    }

    /// The line's text without styles.
    public var text: String { segments.map(\.text).joined() }
}

/// A run of text in one style.
public struct JobLogSegment: Sendable, Equatable {
    public var style: JobLogStyle
    public var text: String

    public init(style: JobLogStyle = .plain, text: String) {
        self.style = style
        self.text = text
    }
}

/// A section opened by `section_start:<time>:<name>[options]`.
public struct JobLogSection: Sendable, Equatable {
    /// `[collapsed=true]`: shown closed.
    public var collapsed: Bool
    /// `[hide_duration=true]`: no duration shown.
    public var hideDuration: Bool
    /// Seconds between its start and end markers; nil while open or when the times do not make sense.
    public var duration: UInt64?

    public init(collapsed: Bool = false, hideDuration: Bool = false, duration: UInt64? = nil) {
        self.collapsed = collapsed
        self.hideDuration = hideDuration
        self.duration = duration
    }
}

/// The SGR attributes of a segment.
public struct JobLogStyle: Sendable, Hashable {
    public var foreground: JobLogColor?
    public var background: JobLogColor?
    public var bold = false
    public var italic = false
    public var underline = false
    public var conceal = false
    public var crossed = false

    public static let plain = JobLogStyle()

    public init(
        foreground: JobLogColor? = nil, background: JobLogColor? = nil, bold: Bool = false, italic: Bool = false, underline: Bool = false,
        conceal: Bool = false, crossed: Bool = false
    ) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.italic = italic
        self.underline = underline
        self.conceal = conceal
        self.crossed = crossed
    }
}

/// A terminal colour.
public enum JobLogColor: Sendable, Hashable {
    /// One of the 256 xterm colours: 0–7 standard, 8–15 bright, 16–231 the 6×6×6 cube, 232–255 greys.
    case palette(UInt8)
    /// A 24-bit colour (`38;2;r;g;b`).
    case rgb(UInt8, UInt8, UInt8)

    /// The xterm colour (16–255) nearest to an RGB colour, for pages whose policy allows classes but no inline styles.
    public static func nearestPalette(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let levels: [Int] = [0, 95, 135, 175, 215, 255]
        func nearestLevel(_ value: UInt8) -> Int {
            levels.indices.min { abs(levels[$0] - Int(value)) < abs(levels[$1] - Int(value)) } ?? 0
        }
        let (ri, gi, bi) = (nearestLevel(r), nearestLevel(g), nearestLevel(b))
        let cube = 16 + 36 * ri + 6 * gi + bi
        let cubeDistance = distance((levels[ri], levels[gi], levels[bi]), (Int(r), Int(g), Int(b)))
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let grey = min(23, max(0, (average - 8 + 5) / 10))
        let greyLevel = 8 + 10 * grey
        let greyDistance = distance((greyLevel, greyLevel, greyLevel), (Int(r), Int(g), Int(b)))
        return UInt8(greyDistance < cubeDistance ? 232 + grey : cube)
    }

    private static func distance(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
        (a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1) + (a.2 - b.2) * (a.2 - b.2)
    }
}
