/// Reads trace bytes into a `JobLog`: SGR colours and attributes, GitLab's section markers, carriage-return rewrites.
///
/// Total over any input: every escape sequence is swallowed (only SGR ones change the style), a sequence that runs past
/// its limit or is cut by a control byte ends there and that byte is read again as text, other control bytes are
/// dropped, and every count has a limit (section depth, segments per line), so the result is at most a constant
/// factor larger than the input and the work is linear in it.
public enum JobLogParser {
    /// The limits the parser applies.
    public struct Limits: Sendable {
        /// Sections open at once; further starts are ignored (GitLab nests a few levels).
        public var maximumDepth = 32
        /// Style changes kept per line; later ones on the same line are ignored.
        public var maximumSegmentsPerLine = 256
        public var maximumCSILength = 64
        public var maximumOSCLength = 4096

        public init() {}
    }

    /// The log shown by `bytes`.
    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) -> JobLog {
        var parser = Parser(bytes: bytes, limits: limits)
        parser.run()
        return JobLog(lines: parser.lines)
    }

    /// A section marker read at some position: which kind, its time and name, its options, and the bytes it took.
    struct Marker: Equatable {
        var start: Bool
        var time: UInt64?
        var name: [UInt8]
        var collapsed: Bool
        var hideDuration: Bool
        var length: Int
    }

    static let startLiteral = Array("section_start:".utf8)
    static let endLiteral = Array("section_end:".utf8)
    static let eraseLine = Array("\u{1B}[0K".utf8)

    /// `section_start:<digits>:<name>[<options>]\r` (then an optional `ESC[0K`) at `index`, as GitLab writes it.
    static func marker(in bytes: [UInt8], at index: Int) -> Marker? {
        var i = index
        let start: Bool
        if hasPrefix(bytes, startLiteral, at: i) {
            start = true
            i += startLiteral.count
        } else if hasPrefix(bytes, endLiteral, at: i) {
            start = false
            i += endLiteral.count
        } else {
            return nil
        }
        let digitsStart = i
        var time: UInt64? = 0
        while i < bytes.count, i - digitsStart < 20, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            time = time.flatMap { value in
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(UInt64(bytes[i] - 0x30))
                return o1 || o2 ? nil : sum
            }
            i += 1
        }
        guard i > digitsStart, i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        let nameStart = i
        while i < bytes.count, i - nameStart < 256, isNameByte(bytes[i]) { i += 1 }
        guard i > nameStart, i < bytes.count else { return nil }
        let name = Array(bytes[nameStart..<i])
        var collapsed = false
        var hideDuration = false
        if bytes[i] == UInt8(ascii: "[") {
            i += 1
            let optionsStart = i
            while i < bytes.count, i - optionsStart < 256, bytes[i] >= 0x20, bytes[i] <= 0x7E, bytes[i] != UInt8(ascii: "]") { i += 1 }
            guard i < bytes.count, bytes[i] == UInt8(ascii: "]") else { return nil }
            let options = String(decoding: bytes[optionsStart..<i], as: UTF8.self).split(separator: ",")
            collapsed = options.contains { $0.trimmingSpaces == "collapsed=true" }
            hideDuration = options.contains { $0.trimmingSpaces == "hide_duration=true" }
            i += 1
        }
        guard i < bytes.count, bytes[i] == 0x0D else { return nil }
        i += 1
        if hasPrefix(bytes, eraseLine, at: i) { i += eraseLine.count }
        return Marker(start: start, time: time, name: name, collapsed: collapsed, hideDuration: hideDuration, length: i - index)
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"): true
        default: false
        }
    }

    static func hasPrefix(_ bytes: [UInt8], _ prefix: [UInt8], at index: Int) -> Bool {
        guard bytes.count - index >= prefix.count else { return false }
        for offset in prefix.indices where bytes[index + offset] != prefix[offset] { return false }
        return true
    }

    /// Applies one SGR sequence's parameters (`nil` for an empty one, which means 0) to `style`.
    static func applySGR(_ parameters: [Int?], to style: inout JobLogStyle) {
        if parameters.isEmpty {
            style = .plain
            return
        }
        var i = 0
        while i < parameters.count {
            let code = parameters[i] ?? 0
            i += 1
            switch code {
            case 0: style = .plain
            case 1: style.bold = true
            case 3: style.italic = true
            case 4, 21: style.underline = true
            case 8: style.conceal = true
            case 9: style.crossed = true
            case 22: style.bold = false
            case 23: style.italic = false
            case 24: style.underline = false
            case 28: style.conceal = false
            case 29: style.crossed = false
            case 30...37: style.foreground = .palette(UInt8(code - 30))
            case 39: style.foreground = nil
            case 40...47: style.background = .palette(UInt8(code - 40))
            case 49: style.background = nil
            case 90...97: style.foreground = .palette(UInt8(code - 90 + 8))
            case 100...107: style.background = .palette(UInt8(code - 100 + 8))
            case 38, 48:
                // 38;5;n and 38;2;r;g;b; a malformed colour ends the sequence, as xterm does.
                guard i < parameters.count, let kind = parameters[i] else { return }
                i += 1
                let color: JobLogColor
                if kind == 5 {
                    guard i < parameters.count, let n = parameters[i], (0...255).contains(n) else { return }
                    i += 1
                    color = .palette(UInt8(n))
                } else if kind == 2 {
                    guard i + 2 < parameters.count, let r = parameters[i], let g = parameters[i + 1], let b = parameters[i + 2],
                        (0...255).contains(r), (0...255).contains(g), (0...255).contains(b)
                    else { return }
                    i += 3
                    color = .rgb(UInt8(r), UInt8(g), UInt8(b))
                } else {
                    return
                }
                if code == 38 { style.foreground = color } else { style.background = color }
            default: continue
            }
        }
    }

    /// The parameters of an SGR sequence's bytes between `ESC[` and `m`; nil when they are not plain numbers.
    static func sgrParameters(_ bytes: ArraySlice<UInt8>) -> [Int?]? {
        guard !bytes.isEmpty else { return [] }
        var result: [Int?] = []
        var current: Int?
        for byte in bytes {
            switch byte {
            case 0x30...0x39:
                // Clamped: a parameter of any length stays a small number and is simply not a known code.
                current = min((current ?? 0) * 10 + Int(byte - 0x30), 100_000)
            case UInt8(ascii: ";"), UInt8(ascii: ":"):
                result.append(current)
                current = nil
            default:
                return nil
            }
        }
        result.append(current)
        return result
    }

    private struct OpenSection {
        var name: [UInt8]
        var time: UInt64?
        var line: Int
    }

    private struct Parser {
        let bytes: [UInt8]
        let limits: Limits
        var lines: [JobLogLine] = []
        var style = JobLogStyle.plain
        var segments: [JobLogSegment] = []
        /// The current segment's bytes, in `segmentStyle`.
        var pending: [UInt8] = []
        var segmentStyle = JobLogStyle.plain
        var header: JobLogSection?
        var headerDepth = 0
        var open: [OpenSection] = []

        init(bytes: [UInt8], limits: Limits) {
            self.bytes = bytes
            self.limits = limits
        }

        mutating func run() {
            var i = 0
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case 0x0A:
                    endLine()
                    i += 1
                case 0x0D:
                    // A progress bar rewrites its line: keep what follows the last carriage return, unless only a line feed does.
                    var next = i + 1
                    while next < bytes.count, bytes[next] == 0x0D { next += 1 }
                    if next < bytes.count, bytes[next] != 0x0A {
                        segments.removeAll()
                        pending.removeAll()
                    }
                    i = next
                case 0x1B:
                    i = escape(at: i)
                case UInt8(ascii: "s"):
                    if let marker = JobLogParser.marker(in: bytes, at: i) {
                        apply(marker)
                        i += marker.length
                    } else {
                        append(byte)
                        i += 1
                    }
                case 0x09:
                    append(byte)
                    i += 1
                case 0x00..<0x20, 0x7F:
                    i += 1
                default:
                    append(byte)
                    i += 1
                }
            }
            if !segments.isEmpty || !pending.isEmpty || header != nil { endLine() }
        }

        mutating func append(_ byte: UInt8) {
            if style != segmentStyle {
                if !pending.isEmpty {
                    if segments.count + 1 < limits.maximumSegmentsPerLine {
                        flushSegment()
                        segmentStyle = style
                    }
                } else {
                    segmentStyle = style
                }
            }
            pending.append(byte)
        }

        mutating func flushSegment() {
            guard !pending.isEmpty else { return }
            segments.append(JobLogSegment(style: segmentStyle, text: String(decoding: pending, as: UTF8.self)))
            pending.removeAll(keepingCapacity: true)
        }

        mutating func endLine() {
            flushSegment()
            if let section = header {
                lines.append(JobLogLine(segments: segments, depth: headerDepth, section: section))
            } else {
                lines.append(JobLogLine(segments: segments, depth: open.count))
            }
            segments.removeAll()
            header = nil
        }

        mutating func apply(_ marker: Marker) {
            if marker.start {
                // A line heads one section; a second start on it, or one past the depth limit, is dropped with its end.
                guard header == nil, open.count < limits.maximumDepth else { return }
                header = JobLogSection(collapsed: marker.collapsed, hideDuration: marker.hideDuration)
                headerDepth = open.count
                open.append(OpenSection(name: marker.name, time: marker.time, line: lines.count))
            } else {
                guard let index = open.lastIndex(where: { $0.name == marker.name }) else { return }
                let section = open[index]
                open.removeSubrange(index...)
                var duration: UInt64?
                if let start = section.time, let end = marker.time, end >= start { duration = end - start }
                if section.line == lines.count {
                    header?.duration = duration
                } else if section.line < lines.count {
                    lines[section.line].section?.duration = duration
                }
            }
        }

        /// Swallows the escape sequence at `index` (an `ESC`), applying it when it is SGR; returns where text resumes.
        mutating func escape(at index: Int) -> Int {
            var i = index + 1
            guard i < bytes.count else { return i }
            switch bytes[i] {
            case UInt8(ascii: "["):
                i += 1
                let parametersStart = i
                while i < bytes.count, i - index < limits.maximumCSILength {
                    let byte = bytes[i]
                    switch byte {
                    case 0x20...0x3F:
                        i += 1
                    case 0x40...0x7E:
                        if byte == UInt8(ascii: "m"), let parameters = JobLogParser.sgrParameters(bytes[parametersStart..<i]) {
                            JobLogParser.applySGR(parameters, to: &style)
                        }
                        return i + 1
                    default:
                        // Cut by a control or non-ASCII byte: the sequence ends, the byte is text again.
                        return i
                    }
                }
                return i
            case UInt8(ascii: "]"):
                i += 1
                while i < bytes.count, i - index < limits.maximumOSCLength {
                    let byte = bytes[i]
                    if byte == 0x07 { return i + 1 }
                    if byte == 0x1B {
                        return i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\\") ? i + 2 : i
                    }
                    if byte < 0x20 { return i }
                    i += 1
                }
                return i
            case 0x20...0x2F:
                while i < bytes.count, i - index < limits.maximumCSILength, (0x20...0x2F).contains(bytes[i]) { i += 1 }
                if i < bytes.count, (0x30...0x7E).contains(bytes[i]) { return i + 1 }
                return i
            case 0x30...0x7E:
                return i + 1
            default:
                return i
            }
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var value = self
        while value.first == " " { value = value.dropFirst() }
        while value.last == " " { value = value.dropLast() }
        return value
    }
}
