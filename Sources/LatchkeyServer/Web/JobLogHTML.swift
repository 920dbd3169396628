import LatchkeyCore

/// A `JobLog` as HTML, with GitLab's class names (`term-fg-red`, `term-fg-l-red`, `term-bold`, `xterm-fg-208`, …).
///
/// Every character of text goes through `escape`; attributes hold only class names and line numbers we write, so
/// nothing in a trace can add markup or attributes. 24-bit colours use the nearest xterm class: the pages' policy
/// (`style-src 'self'`) allows no inline styles.
enum JobLogHTML {
    static let colorNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// Escapes text for an element or a quoted attribute.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    static func colorClass(_ color: JobLogColor, _ layer: String) -> String {
        switch color {
        case .palette(let n) where n < 8: "term-\(layer)-\(colorNames[Int(n)])"
        case .palette(let n) where n < 16: "term-\(layer)-l-\(colorNames[Int(n) - 8])"
        case .palette(let n): "xterm-\(layer)-\(n)"
        case .rgb(let r, let g, let b): "xterm-\(layer)-\(JobLogColor.nearestPalette(r, g, b))"
        }
    }

    /// The classes of a style, or "" for plain text.
    static func classes(_ style: JobLogStyle) -> String {
        var names: [String] = []
        if let foreground = style.foreground { names.append(colorClass(foreground, "fg")) }
        if let background = style.background { names.append(colorClass(background, "bg")) }
        if style.bold { names.append("term-bold") }
        if style.italic { names.append("term-italic") }
        if style.underline { names.append("term-underline") }
        if style.conceal { names.append("term-conceal") }
        if style.crossed { names.append("term-cross") }
        return names.joined(separator: " ")
    }

    static func segments(_ line: JobLogLine) -> String {
        var html = ""
        for segment in line.segments {
            let names = classes(segment.style)
            if names.isEmpty {
                html += escape(segment.text)
            } else {
                html += "<span class=\"\(names)\">\(escape(segment.text))</span>"
            }
        }
        return html
    }

    /// `mm:ss`, or `h:mm:ss` from an hour, as GitLab shows a section's duration.
    static func duration(_ seconds: UInt64) -> String {
        let s = min(seconds, 359_999_999)
        let (h, m, r) = (s / 3600, (s % 3600) / 60, s % 60)
        func two(_ n: UInt64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return h > 0 ? "\(h):\(two(m)):\(two(r))" : "\(two(m)):\(two(r))"
    }

    /// The lines from index `from`, numbered from `firstNumber` for `lines[0]`; sections become `<details>` (open unless
    /// `collapsed=true`), and depths are taken relative to the first rendered line, so a tail renders on its own.
    static func render(_ log: JobLog, firstNumber: Int = 1, from: Int = 0) -> String {
        guard from < log.lines.count else { return "" }
        let start = max(0, from)
        let base = log.lines[start].depth
        var html = ""
        var openSections = 0
        // A refusal notice repeated (one `skopeo push` can write eight) shows once: its repeats and the blank line each notice
        // starts with are kept hidden, numbered as in the raw log; the Job token panel counts them. Only the rendered lines are
        // compared, so hiding tells nothing the log does not show.
        var seen = Set(log.lines[..<start].map(\.text).filter { $0.hasPrefix(RenderedJobLog.refusalPrefix) })
        var repeats = Set<Int>()
        for index in start..<log.lines.count {
            let text = log.lines[index].text
            guard text.hasPrefix(RenderedJobLog.refusalPrefix) else { continue }
            if !seen.insert(text).inserted {
                repeats.insert(index)
                if index > start, log.lines[index - 1].text.isEmpty { repeats.insert(index - 1) }
            }
        }
        for index in start..<log.lines.count {
            let line = log.lines[index]
            let depth = max(0, line.depth - base)
            while openSections > depth {
                html += "</details>"
                openSections -= 1
            }
            let number = firstNumber + index
            let anchor = "<a class=\"line-number\" href=\"#L\(number)\">\(number)</a>"
            let text = "<span class=\"line-text\">\(segments(line))</span>"
            if let section = line.section {
                let shown = section.hideDuration ? "" : section.duration.map { "<span class=\"section-duration\">\(Self.duration($0))</span>" } ?? ""
                html += "<details class=\"log-section\"\(section.collapsed ? "" : " open")><summary class=\"log-line section-header\" id=\"L\(number)\">"
                html += "\(anchor)\(text)\(shown)</summary>"
                openSections += 1
            } else if repeats.contains(index) {
                html += "<div class=\"log-line refusal-repeat\" id=\"L\(number)\" hidden>\(anchor)\(text)</div>"
            } else {
                html += "<div class=\"log-line\" id=\"L\(number)\">\(anchor)\(text)</div>"
            }
        }
        html += String(repeating: "</details>", count: openSections)
        return html
    }

    /// Rules for the 256 xterm colours (`xterm-fg-N`, `xterm-bg-N`), appended to the stylesheet.
    static let paletteCSS: String = {
        let base = [
            "000000", "cd3131", "0dbc79", "e5e510", "2472c8", "bc3fbc", "11a8cd", "e5e5e5",
            "666666", "f14c4c", "23d18b", "f5f543", "3b8eea", "d670d6", "29b8db", "ffffff",
        ]
        let levels = [0, 95, 135, 175, 215, 255]
        func hex(_ v: Int) -> String { let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }
        var css = ""
        for n in 0..<256 {
            let color: String
            if n < 16 {
                color = base[n]
            } else if n < 232 {
                let c = n - 16
                color = hex(levels[c / 36]) + hex(levels[(c / 6) % 6]) + hex(levels[c % 6])
            } else {
                let v = 8 + 10 * (n - 232)
                color = hex(v) + hex(v) + hex(v)
            }
            css += ".xterm-fg-\(n){color:#\(color)}.xterm-bg-\(n){background-color:#\(color)}\n"
        }
        return css
    }()
}

/// What the job page shows of a trace: the log, masked again after parsing, and the job-token refusal notices.
struct RenderedJobLog {
    /// The log after re-masking its visible text.
    var log: JobLog
    /// Each distinct refusal notice once, in order of first appearance, with how often it appears.
    var refusals: [(text: String, count: Int)]

    static let refusalPrefix = "Latchkey: job token refused: "

    /// Parses `bytes` (stored trace bytes, already masked) and masks the visible text once more: dropping escapes and
    /// markers can join pieces into a secret. Lines the masker changes lose their colours; should masking join lines,
    /// the masked text is shown as plain lines.
    init(bytes: [UInt8], masker: inout SecretMasker) {
        let parsed = JobLogParser.parse(bytes)
        let visible = parsed.lines.map(\.text).joined(separator: "\n")
        let masked = String(decoding: masker.mask(Array(visible.utf8)) + masker.finish(), as: UTF8.self)
        let maskedLines = masked.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var log = parsed
        if maskedLines.count == parsed.lines.count || (parsed.lines.isEmpty && masked.isEmpty) {
            for index in log.lines.indices where maskedLines[index] != log.lines[index].text {
                log.lines[index].segments = [JobLogSegment(text: maskedLines[index])]
            }
        } else {
            log = JobLog(lines: maskedLines.map { JobLogLine(segments: [JobLogSegment(text: $0)]) })
        }
        self.log = log
        var order: [String] = []
        var counts: [String: Int] = [:]
        for line in log.lines {
            let text = line.text
            guard text.hasPrefix(Self.refusalPrefix) else { continue }
            if counts[text] == nil { order.append(text) }
            counts[text, default: 0] += 1
        }
        refusals = order.map { ($0, counts[$0] ?? 0) }
    }
}
