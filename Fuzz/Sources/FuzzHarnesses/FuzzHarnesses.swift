import Foundation
import LatchkeyCore

/// What each fuzz target does with one input: run the parser and check what must hold of its answer.
///
/// Shared by the libFuzzer targets (`Fuzz/`) and the regression test that replays the corpus in the normal test suite
/// (`Tests/LatchkeyCoreTests/Parsing/FuzzCorpusTests.swift` links this file). Each returns the invariants its input broke,
/// empty when the parser answered a value or a typed error as it should; a parser that traps ends the process either way.
public enum FuzzHarnesses {
    /// Every target whose parser is in `LatchkeyCore`, by its corpus folder name.
    public static let core: [String: @Sendable ([UInt8]) -> [String]] = [
        "ContentRange": contentRange,
        "RangeHeader": rangeHeader,
        "Multipart": multipart,
        "URLEncodedForm": urlEncodedForm,
        "JSONParameters": jsonParameters,
        "Duration": duration,
        "Cron": cron,
        "CIConfig": ciConfig,
        "ArtifactEntryName": artifactEntryName,
        "GitRefName": gitRefName,
        "Dotenv": dotenv,
        "JUnit": junit,
    ]

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// A trace PATCH's `Content-Range`.
    public static func contentRange(_ bytes: [UInt8]) -> [String] {
        guard let range = try? ContentRange.parse(text(bytes)) else { return [] }
        return range.start >= 0 && range.end >= range.start - 1 ? [] : ["range \(range.start)-\(range.end) is not a chunk"]
    }

    /// A download's `Range`, against files of several sizes.
    public static func rangeHeader(_ bytes: [UInt8]) -> [String] {
        let header = text(bytes)
        var problems: [String] = []
        for size in [0, 1, 100, 1 << 40, Int64.max] as [Int64] {
            guard let range = RangeHeader.range(header, size: size) else { continue }
            if range.lowerBound < 0 || range.upperBound >= size { problems.append("\(range) is outside a file of \(size) bytes") }
        }
        return problems
    }

    /// A multipart body: the first line is the `Content-Type`, the rest the body, read whole and in chunks of 1, 7 and
    /// 64 bytes; every chunking must give the same parts, bytes and outcome.
    public static func multipart(_ bytes: [UInt8]) -> [String] {
        let newline = bytes.firstIndex(of: 10) ?? bytes.count
        let boundary = MultipartParser.boundary(contentType: text(Array(bytes[..<newline]))) ?? "b"
        let body = Array(bytes[min(newline + 1, bytes.count)...])
        let whole = Result { () throws(MultipartParser.Failure) in try MultipartParser.events(of: body, boundary: boundary) }.map(merged)
        var problems: [String] = []
        for size in [1, 7, 64] {
            let chunked = Result { () throws(MultipartParser.Failure) -> [MultipartParser.Event] in
                var parser = MultipartParser(boundary: boundary)
                var events: [MultipartParser.Event] = []
                var start = 0
                while start < body.count {
                    events += try parser.feed(body[start..<min(start + size, body.count)])
                    start += size
                }
                try parser.finish()
                return events
            }.map(merged)
            if chunked != whole { problems.append("chunks of \(size) bytes read \(chunked), the whole body \(whole)") }
        }
        return problems
    }

    /// Events with adjacent byte runs joined, so two chunkings of one body compare equal.
    static func merged(_ events: [MultipartParser.Event]) -> [MultipartParser.Event] {
        var result: [MultipartParser.Event] = []
        for event in events {
            if case .bytes(let more) = event, case .bytes(let some)? = result.last {
                result[result.count - 1] = .bytes(some + more)
            } else {
                result.append(event)
            }
        }
        return result
    }

    /// A query string or URL-encoded form body.
    public static func urlEncodedForm(_ bytes: [UInt8]) -> [String] {
        let form = text(bytes)
        let pairs = URLEncodedForm.decode(form)
        let separators = form.utf8.filter { $0 == UInt8(ascii: "&") }.count
        return pairs.count <= separators + 1 ? [] : ["\(pairs.count) pairs from \(separators) separators"]
    }

    /// A JSON request body.
    public static func jsonParameters(_ bytes: [UInt8]) -> [String] {
        _ = try? JSONValue.parameters(Data(bytes))
        return []
    }

    /// A duration (`expire_in`, `timeout`, `start_in`), and the expiry date computed from it as the store keeps it.
    public static func duration(_ bytes: [UInt8]) -> [String] {
        let text = text(bytes)
        var problems: [String] = []
        if let seconds = CIDuration.seconds(text) {
            if !(1...CIDuration.maximumSeconds).contains(seconds) { problems.append("\(seconds) s is outside 1...\(CIDuration.maximumSeconds)") }
            // What crashed the server (issue 10): a date from an absurd duration, converted to milliseconds.
            let expiry = Date(timeIntervalSince1970: 4_102_444_800).addingTimeInterval(Double(seconds))
            if Int64(exactly: (expiry.timeIntervalSince1970 * 1000).rounded()) == nil { problems.append("\(seconds) s overflows milliseconds") }
        }
        if case .after(let seconds)? = CIDuration.expiry(text), CIDuration.seconds(text) != seconds {
            problems.append("expiry and seconds disagree")
        }
        return problems
    }

    /// A schedule's cron expression, and its next run in zones with odd offsets and DST rules.
    public static func cron(_ bytes: [UInt8]) -> [String] {
        guard let expression = try? CronExpression(text(bytes)) else { return [] }
        let after = Date(timeIntervalSince1970: 1_790_000_000)
        var problems: [String] = []
        for zone in zones {
            if let next = expression.nextDate(after: after, in: zone), next <= after { problems.append("next run \(next) is not after \(after)") }
        }
        return problems
    }

    static let zones: [TimeZone] = ["UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"].compactMap(TimeZone.init(identifier:))

    /// A `.gitlab-ci.yml`.
    public static func ciConfig(_ bytes: [UInt8]) -> [String] {
        _ = try? CIConfigParser.parse(text(bytes))
        return []
    }

    /// An entry name of an artifacts archive, as a download path and as a file to extract; components are checked as
    /// the file system reads them, on the bytes between slashes.
    public static func artifactEntryName(_ bytes: [UInt8]) -> [String] {
        let name = text(bytes)
        var problems: [String] = []
        func climbs(_ part: ArraySlice<UInt8>) -> Bool { part.elementsEqual("..".utf8) || part.elementsEqual(".".utf8) }
        if let path = try? ArtifactEntryName.lookupPath(name) {
            let parts = Array(path.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            if path != name || path.utf8.first == UInt8(ascii: "/") || parts.contains(where: climbs) || path.utf8.contains(0) {
                problems.append("lookup path \(path.debugDescription) accepted")
            }
        }
        if let parts = ArtifactEntryName.extractionComponents(name) {
            let joined = Array(parts.joined(separator: "/").utf8)
            if parts.isEmpty || parts.contains(where: \.isEmpty) || joined.first == UInt8(ascii: "/") || joined.contains(0)
                || joined.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).contains(where: climbs)
            {
                problems.append("extraction components \(parts) accepted")
            }
        }
        return problems
    }

    /// A git ref or tag name.
    public static func gitRefName(_ bytes: [UInt8]) -> [String] {
        let name = text(bytes)
        var problems: [String] = []
        let utf8 = Array(name.utf8)
        func has(_ pair: String) -> Bool { zip(utf8, utf8.dropFirst()).contains { [$0.0, $0.1] == Array(pair.utf8) } }
        if GitRefName.isValid(name),
            has("..") || has("@{") || has("//") || utf8.first == UInt8(ascii: "/") || utf8.last == UInt8(ascii: "/")
                || utf8.last == UInt8(ascii: ".") || utf8.contains(where: { $0 < 0x20 || $0 == 0x7F })
        {
            problems.append("\(name.debugDescription) accepted as a ref")
        }
        if GitRefName.isValidTagName(name), !GitRefName.isSafeArgument(name) || !GitRefName.isValid("refs/tags/\(name)") {
            problems.append("\(name.debugDescription) accepted as a tag")
        }
        return problems
    }

    /// A job's uploaded dotenv report (gzip), and the same bytes as a report's plain text.
    public static func dotenv(_ bytes: [UInt8]) -> [String] {
        var problems: [String] = []
        for variables in [try? DotenvReport.read(gzip: bytes), try? DotenvReport.parse(blobs: [bytes])] {
            guard let variables else { continue }
            if variables.count > DotenvReport.variableLimit { problems.append("\(variables.count) variables") }
            if Set(variables.map(\.key)).count != variables.count { problems.append("a key twice") }
            for variable in variables {
                if DotenvReport.isPredefined(variable.key) { problems.append("predefined key \(variable.key)") }
                if variable.key.isEmpty || variable.key.utf8.count > DotenvReport.keyLengthLimit { problems.append("key of \(variable.key.utf8.count) bytes") }
                if variable.value.utf8.contains(0) || variable.value.contains("\n") { problems.append("a value with NUL or a newline") }
            }
        }
        return problems
    }

    /// A job's JUnit report document: the XML reader's events nest, and the report keeps its counts and limits.
    public static func junit(_ bytes: [UInt8]) -> [String] {
        var problems: [String] = []
        var reader = XMLReader(bytes)
        var depth = 0
        var events = 0
        do {
            while let event = try reader.next() {
                events += 1
                switch event {
                case .start: depth += 1
                case .end: depth -= 1
                case .text: break
                }
                if depth < 0 || depth > XMLReader.maximumDepth { problems.append("depth \(depth)") }
                if events > bytes.count + 1 { problems.append("more events than bytes") }
                if !problems.isEmpty { break }
            }
            if problems.isEmpty, depth != 0 { problems.append("ended at depth \(depth)") }
        } catch {}
        var report = PipelineTestReport()
        report.add(documents: [bytes], jobID: 1, jobName: "rspec 1/2")
        let suite = report.suites.first
        if report.suites.count != 1 || suite?.name != "rspec" { problems.append("suite \(report.suites.map(\.name))") }
        if let suite, suite.totalCount != TestCase.Status.allCases.reduce(0, { $0 + suite.count($1) }) { problems.append("counts do not add up") }
        if let suite, suite.cases.contains(where: { ($0.systemOutput?.utf8.count ?? 0) > JUnitReport.maximumOutput * 2 }) { problems.append("output too long") }
        return problems
    }
}
