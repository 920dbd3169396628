import LatchkeyCore
import Testing

@Suite("Job log parser")
struct JobLogParserTests {
    static func parse(_ text: String) -> JobLog { JobLogParser.parse(Array(text.utf8)) }

    @Test("the 8 colours, bright ones, backgrounds, bold, italic, underline and reset become styles")
    func basicColours() {
        let log = Self.parse("\u{1B}[31mred\u{1B}[0m plain \u{1B}[1;92mbright\u{1B}[22m \u{1B}[44;3;4mbg\u{1B}[m end\n")
        let segments = log.lines[0].segments
        #expect(segments.map(\.text) == ["red", " plain ", "bright", " ", "bg", " end"])
        #expect(segments[0].style == JobLogStyle(foreground: .palette(1)))
        #expect(segments[1].style == .plain)
        #expect(segments[2].style == JobLogStyle(foreground: .palette(10), bold: true))
        #expect(segments[3].style == JobLogStyle(foreground: .palette(10)))
        #expect(segments[4].style == JobLogStyle(foreground: .palette(10), background: .palette(4), italic: true, underline: true))
        #expect(segments[5].style == .plain)
    }

    @Test("256-colour and truecolor codes, and a style carried to the next line")
    func extendedColours() {
        let log = Self.parse("\u{1B}[38;5;208ma\u{1B}[48;2;10;20;30mb\nc\u{1B}[0m\n")
        #expect(log.lines[0].segments[0].style.foreground == .palette(208))
        #expect(log.lines[0].segments[1].style.background == .rgb(10, 20, 30))
        #expect(log.lines[1].segments[0].style.foreground == .palette(208), "a terminal keeps the style across a line feed")
        #expect(JobLogColor.nearestPalette(255, 135, 0) == 208)
        #expect(JobLogColor.nearestPalette(128, 128, 128) == 244)
    }

    @Test("bogus SGR parameters change nothing they should not and never fail")
    func bogusParameters() {
        let hostile = [
            "\u{1B}[38;5;999mx", "\u{1B}[38;2;300;1;1mx", "\u{1B}[38;5mx", "\u{1B}[38mx", "\u{1B}[99999999999999999999999mx",
            "\u{1B}[;;;;;mx", "\u{1B}[?25hx", "\u{1B}[1;<mx", "\u{1B}[38;7;1mx", "\u{1B}[48;2;1;2mx",
        ]
        for text in hostile {
            let log = Self.parse(text)
            #expect(log.lines.map(\.text) == ["x"], "\(text.debugDescription)")
            #expect(log.lines[0].segments[0].style.foreground == nil, "\(text.debugDescription)")
        }
    }

    @Test("unterminated and overlong escapes are swallowed up to their limit and the rest is text")
    func unterminatedEscapes() {
        #expect(Self.parse("a\u{1B}").lines.map(\.text) == ["a"])
        #expect(Self.parse("a\u{1B}[31").lines.map(\.text) == ["a"])
        #expect(Self.parse("a\u{1B}]8;;http://x\u{07}link\u{1B}]8;;\u{1B}\\ b").lines.map(\.text) == ["alink b"], "OSC hyperlinks are dropped, not rendered")
        #expect(Self.parse("a\u{1B}[31\nb\n").lines.map(\.text) == ["a", "b"], "a line feed ends a cut sequence and still ends the line")
        let long = "\u{1B}[" + String(repeating: "1;", count: 100) + "mtext"
        let text = Self.parse(long).lines.map(\.text).joined()
        #expect(text.hasSuffix("mtext"), "an overlong sequence ends at its limit")
        #expect(text.count < 200)
        #expect(Self.parse("a\u{1B}]" + String(repeating: "x", count: 10_000)).lines.map(\.text).joined().count <= 10_000 - 4096 + 4)
        #expect(Self.parse("bell\u{07} nul\u{00} del\u{7F}").lines.map(\.text) == ["bell nul del"])
    }

    @Test("a carriage return rewrites its line; CRLF does not")
    func carriageReturn() {
        #expect(Self.parse("10%\r50%\r100%\ndone\r\n").lines.map(\.text) == ["100%", "done"])
    }

    @Test("sections: header line, nesting, duration from the end marker, collapsed option, and the depth of the lines in them")
    func sections() {
        let text =
            "\u{1B}[0Ksection_start:1700000000:build[collapsed=true]\r\u{1B}[0K\u{1B}[36;1mBuilding\u{1B}[0;m\n"
            + "step 1\n"
            + "\u{1B}[0Ksection_start:1700000002:inner\r\u{1B}[0KInner\n"
            + "deep\n"
            + "\u{1B}[0Ksection_end:1700000004:inner\r\u{1B}[0K\u{1B}[0Ksection_end:1700000010:build\r\u{1B}[0K"
            + "after\n"
        let log = Self.parse(text)
        #expect(log.lines.map(\.text) == ["Building", "step 1", "Inner", "deep", "after"])
        #expect(log.lines.map(\.depth) == [0, 1, 1, 2, 0])
        #expect(log.lines[0].section == JobLogSection(collapsed: true, duration: 10))
        #expect(log.lines[2].section == JobLogSection(duration: 2))
        #expect(log.lines[0].segments[0].style == JobLogStyle(foreground: .palette(6), bold: true))
    }

    @Test("marker look-alikes stay text; an end without a start, an end before its start, and unclosed sections are harmless")
    func bogusSections() {
        #expect(Self.parse("section_start:x:name\r\nsection_start:1:na me\r\n").lines.map(\.text) == ["section_start:x:name", "section_start:1:na me"])
        let log = Self.parse("section_end:5:none\r\u{1B}[0Ka\nsection_start:9:s\r\u{1B}[0Kb\nsection_end:3:s\r\u{1B}[0Kc\nsection_start:1:open\r\u{1B}[0Kd\n")
        #expect(log.lines.map(\.text) == ["a", "b", "c", "d"])
        #expect(log.lines[1].section == JobLogSection(duration: nil), "an end before the start gives no duration")
        #expect(log.lines[3].section?.duration == nil)
        #expect(Self.parse("section_start:99999999999999999999:big\r\u{1B}[0Kx\nsection_end:99999999999999999999:big\r\u{1B}[0K").lines[0].section?.duration == nil)
    }

    @Test("thousands of nested sections are capped at the depth limit")
    func deepNesting() {
        var text = ""
        for n in 0..<5000 { text += "section_start:1:s\(n)\r\u{1B}[0Kline \(n)\n" }
        for n in (0..<5000).reversed() { text += "section_end:2:s\(n)\r\u{1B}[0K" }
        text += "end\n"
        let log = Self.parse(text)
        #expect(log.lines.count == 5001)
        #expect(log.lines.map(\.depth).max() == 32)
        #expect(log.lines.filter { $0.section != nil }.count == 32)
        #expect(log.lines.last?.depth == 0)
    }

    @Test("a 1 MB line of colour changes stays one line with a bounded number of segments")
    func hugeLine() {
        var text = ""
        for n in 0..<150_000 { text += "\u{1B}[3\(n % 8)mab" }
        text += "\n"
        let bytes = Array(text.utf8)
        #expect(bytes.count > 1_000_000)
        let log = JobLogParser.parse(bytes)
        #expect(log.lines.count == 1)
        #expect(log.lines[0].segments.count <= 256)
        #expect(log.lines[0].text.count == 300_000)
    }

    @Test("every line feed ends exactly one line, whatever surrounds it")
    func lineFeedsCount() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("\u{1B}[];:m0123456789section_startend\r\n\u{07}\\x[]".utf8) + [0xFF, 0xC3]
        for _ in 0..<300 {
            let bytes = (0..<Int.random(in: 0..<400, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            let log = JobLogParser.parse(bytes)
            let feeds = bytes.filter { $0 == 0x0A }.count
            #expect(log.lines.count == feeds || log.lines.count == feeds + 1, "\(bytes)")
            #expect(log.lines.allSatisfy { !$0.text.contains("\u{1B}") && !$0.text.contains("\n") })
        }
    }
}
