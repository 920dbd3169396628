import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
@testable import LatchkeyServer
import LatchkeyStore
import LatchkeyTestSupport
import Testing

/// The job page's log: colours and sections from the stored trace, the live tail, and the job token panel.
@Suite("Job log page")
struct JobLogPageTests {
    static let coloured =
        "\u{1B}[0Ksection_start:1700000000:prepare[collapsed=true]\r\u{1B}[0K\u{1B}[36;1mPreparing\u{1B}[0;m\n"
        + "Using \u{1B}[38;5;208mshell\u{1B}[0m and \u{1B}[38;2;255;135;0mtruecolor\u{1B}[0m\n"
        + "\u{1B}[0Ksection_end:1700000007:prepare\r\u{1B}[0K"
        + "\u{1B}[32;1m$ echo <b>\"hi\"</b>\u{1B}[0;m\n"
        + "token [MASKED] kept\n"
        + "\u{1B}[31;1mERROR:\u{1B}[0m it broke\n"

    @Test("colours become GitLab's classes, sections collapse with their duration, lines have anchors, and text is escaped")
    func renderedLog() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (_, _, jobs) = try await WebPagesTests.project(server, client)
            let build = try #require(jobs.first { $0.name == "build" })
            try server.environment.traces.append(jobID: build.id, Array(Self.coloured.utf8))
            let browser = WebTestBrowser(client)
            try await browser.signIn("root", password: "root-password")
            let page = try await browser.get("/root/app/-/jobs/\(build.id)").text
            #expect(page.contains(#"<details class="log-section"><summary class="log-line section-header" id="L1">"#), "collapsed=true: closed")
            #expect(page.contains(#"<span class="term-fg-cyan term-bold">Preparing</span>"#))
            #expect(page.contains(#"<span class="section-duration">00:07</span>"#))
            #expect(page.contains(#"<span class="xterm-fg-208">shell</span>"#))
            #expect(page.contains(#"<span class="xterm-fg-208">truecolor</span>"#))
            #expect(page.contains(#"<span class="term-fg-green term-bold">$ echo &lt;b&gt;&quot;hi&quot;&lt;/b&gt;</span>"#))
            #expect(page.contains(##"<div class="log-line" id="L4"><a class="line-number" href="#L4">4</a><span class="line-text">token [MASKED] kept</span></div>"##))
            #expect(page.contains(#"<span class="term-fg-red term-bold">ERROR:</span>"#))
            #expect(page.contains("/root/app/-/jobs/\(build.id)/raw?download=1"))
            #expect(page.contains(#"data-trace-url="/root/app/-/jobs/\#(build.id)/trace.json""#))
            #expect(page.contains(#"<script src="/assets/latchkey.js" defer></script>"#))
            #expect(!page.contains("\u{1B}"))
            #expect(!page.contains("section_start"))
            let css = try await browser.get("/assets/latchkey.css").text
            #expect(css.contains(".xterm-fg-208{color:#ff8700}"))
            let script = try await browser.get("/assets/latchkey.js")
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.text.contains("trace"))
        }
    }

    @Test("no escape sequence, marker or byte of a trace can open markup or an attribute")
    func hostileTrace() {
        let hostile = [
            "\u{1B}[31m<script>alert(1)</script>", "\u{1B}]8;;javascript:alert(1)\u{07}x\u{1B}]8;;\u{07}", "\u{1B}[38;5;1\"onmouseover=alert(1)m x",
            "section_start:1:a\"b[collapsed=\"><img src=x>]\r\u{1B}[0Kq", "section_start:1:x[<script>]\r\u{1B}[0K<i>h</i>\nsection_end:2:x\r\u{1B}[0K",
            "\u{1B}[1m'&\"<>", String(repeating: "\u{1B}[", count: 1000) + "<",
        ]
        for text in hostile {
            var masker = SecretMasker(secrets: [])
            let html = JobLogHTML.render(RenderedJobLog(bytes: Array(text.utf8), masker: &masker).log)
            // Only our own tags: strip them, and no angle bracket or quote may remain.
            let ours = html.replacingOccurrences(of: #"<(/?)(div|span|a|details|summary)( (class|id|href)="[A-Za-z0-9 #:_-]*")*( open| hidden)?>"#, with: "", options: .regularExpression)
            #expect(!ours.contains("<") && !ours.contains(">") && !ours.contains("\""), "\(text.debugDescription) → \(html)")
        }
    }

    @Test("the page masks joins made by stripping colours, and a masked line keeps its place")
    func remasking() {
        var masker = SecretMasker(secrets: ["SuperSecretValue"])
        let rendered = RenderedJobLog(bytes: Array("a\nx Super\u{1B}[31mSecret\u{1B}[0mValue y\nb\n".utf8), masker: &masker)
        #expect(rendered.log.lines.map(\.text) == ["a", "x [MASKED] y", "b"])
    }

    @Test("trace.json answers the complete lines after an offset, then the rest and complete once the job ends; readers only")
    func liveTail() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (_, _, jobs) = try await WebPagesTests.project(server, client)
            let build = try #require(jobs.first { $0.name == "build" })
            try server.environment.traces.append(jobID: build.id, Array("one\n\u{1B}[32mtwo\u{1B}[0m\nthr".utf8))
            let browser = WebTestBrowser(client)
            try await browser.signIn("root", password: "root-password")
            let page = try await browser.get("/root/app/-/jobs/\(build.id)").text
            #expect(page.contains(#"data-offset="\#("one\n\u{1B}[32mtwo\u{1B}[0m\n".utf8.count)""#), "the page shows complete lines only while the job runs")
            #expect(!page.contains(#"line-text">thr<"#))

            let base = "/root/app/-/jobs/\(build.id)/trace.json"
            let first = try await browser.get("\(base)?offset=4")
            #expect(first.status == .ok)
            #expect(first.headers[.contentType] == "application/json; charset=utf-8")
            let update = try JSONDecoder().decode(WebPages.TraceUpdate.self, from: Data(first.text.utf8))
            #expect(update.html == ##"<div class="log-line" id="L2"><a class="line-number" href="#L2">2</a><span class="line-text"><span class="term-fg-green">two</span></span></div>"##)
            #expect(update.complete == false)
            #expect(update.canCancel && !update.canRetry, "a job that has not ended offers cancel, not retry")
            let nothing = try JSONDecoder().decode(WebPages.TraceUpdate.self, from: Data(try await browser.get("\(base)?offset=\(update.offset)").text.utf8))
            #expect(nothing.html.isEmpty)
            #expect(nothing.offset == update.offset)
            for bogus in ["-5", "99999999999999999999999", "abc", "1e9"] {
                #expect(try await browser.get("\(base)?offset=\(bogus)").status == .ok, "\(bogus)")
            }

            try server.environment.traces.append(jobID: build.id, Array("ee\n".utf8))
            _ = try await server.store.jobs.cancel(jobID: build.id)
            let last = try JSONDecoder().decode(WebPages.TraceUpdate.self, from: Data(try await browser.get("\(base)?offset=\(update.offset)").text.utf8))
            #expect(last.html.contains(#"id="L3""#) && last.html.contains("three"))
            #expect(last.complete)
            // The answer carries what the header shows now: the badge, and the buttons the viewer may use (root: retry, no cancel).
            #expect(last.status == "canceled" && last.statusClass == "canceled")
            #expect(last.canRetry && !last.canCancel && !last.canPlay)

            _ = try await server.makeUser("eve")
            let eve = WebTestBrowser(client)
            try await eve.signIn("eve", password: "eve-password")
            #expect(try await eve.get(base).status == .notFound)
            #expect(try await WebTestBrowser(client).get(base).location?.hasPrefix("/users/sign_in") == true)
        }
    }

    @Test("job-token refusal notices show once each with a count in the Job token panel and a section at the log's end; the raw trace keeps every line")
    func refusalPanel() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (_, _, jobs) = try await WebPagesTests.project(server, client)
            let build = try #require(jobs.first { $0.name == "build" })
            let notice = JobTokenDenialNotice.line(source: "root/app", target: "root/other", ability: .readProject, denial: .notFound)
            let other = JobTokenDenialNotice.line(source: "root/app", target: "root/third", ability: .readJob, denial: .notFound)
            let trace = "$ skopeo push\n" + String(repeating: notice, count: 8) + other + "done\n"
            try server.environment.traces.append(jobID: build.id, Array(trace.utf8))
            let browser = WebTestBrowser(client)
            try await browser.signIn("root", password: "root-password")
            let page = try await browser.get("/root/app/-/jobs/\(build.id)").text
            #expect(page.contains(#"<h2 id="token-panel-title" class="h3">Job token</h2>"#))
            #expect(page.contains(#"<span class="count-number">8</span>"#))
            let items = page.components(separatedBy: #"<li><span class="refusal-text">Latchkey: job token refused:"#)
            #expect(items.count == 5, "two distinct notices, in the Job token panel and again in the section at the log's end")
            let logAt = try #require(page.range(of: #"id="trace""#)), sectionAt = try #require(page.range(of: #"<details class="refusal-section" id="refusal-section" open>"#))
            #expect(logAt.upperBound < sectionAt.lowerBound, "the refusals section follows the log")
            // In the log each distinct notice shows once; its seven repeats (and their leading blank lines) stay hidden, numbered as in the raw log.
            let lines = page.components(separatedBy: #"<div class="log-line"#).dropFirst().map { $0.components(separatedBy: "</div>")[0] }
            let shown = lines.filter { $0.hasPrefix(#"" id="L"#) }, hidden = lines.filter { $0.hasPrefix(#" refusal-repeat" id="L"#) && $0.contains(" hidden>") }
            #expect(shown.filter { $0.contains("job token refused") }.count == 2)
            #expect(hidden.filter { $0.contains("job token refused") }.count == 7 && hidden.count == 14)
            let raw = try await browser.get("/root/app/-/jobs/\(build.id)/raw").text
            #expect(raw.components(separatedBy: "job token refused").count == 10)
        }
    }
}
