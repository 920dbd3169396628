/// A streaming `multipart/form-data` reader (RFC 7578, RFC 2046 §5.1): feed it the body in any chunking and it returns
/// the parts it found, with their bytes as they arrive; memory stays bounded by the part headers, not by the files.
///
/// The one multipart parser of the server: API parameters collect the events in memory, artifact uploads stream them to disk.
/// Every malformed body ends in a `Failure`, never a trap.
public struct MultipartParser: Sendable {
    /// What a part says about itself in its headers.
    public struct PartHead: Sendable, Equatable {
        /// `name` of `Content-Disposition: form-data`; nil when the part has none (such parts are skipped by readers).
        public var name: String?
        /// `filename`, for file parts.
        public var filename: String?
        /// `Content-Type`, when given.
        public var contentType: String?

        public init(name: String? = nil, filename: String? = nil, contentType: String? = nil) {
            self.name = name
            self.filename = filename
            self.contentType = contentType
        }
    }

    /// One step of the body.
    public enum Event: Sendable, Equatable {
        /// A part begins.
        case part(PartHead)
        /// More bytes of the current part's body.
        case bytes([UInt8])
        /// The current part ended.
        case partEnd
    }

    /// Why a body is not a multipart body we read; answered 400 (`tooManyParts` too).
    public enum Failure: Error, Equatable, Sendable {
        /// The delimiters, the part headers or the closing delimiter are not where they must be.
        case malformed
        /// One part's headers are longer than `maximumHeaderBytes`.
        case headersTooLarge
        /// More parts than `maximumParts`.
        case tooManyParts
    }

    /// Longest header block of one part.
    public static let maximumHeaderBytes = 16 * 1024
    /// Longest transport padding (spaces and tabs) after a delimiter that we skip.
    static let maximumPadding = 256

    private enum State: Sendable {
        case preamble, afterDelimiter, headers, body, done
    }

    private let delimiter: [UInt8]
    private let maximumParts: Int
    private var buffer: [UInt8]
    private var state = State.preamble
    private var parts = 0
    /// Where the search for the end of the headers resumes, so a header sent a byte at a time is not rescanned each time.
    private var headerScanned = 0

    /// A parser for `boundary` (see `boundary(contentType:)`).
    public init(boundary: String, maximumParts: Int = 1000) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        self.maximumParts = maximumParts
        // The body is read as if it began with CRLF, so a first delimiter at the very start looks like every other one.
        buffer = [13, 10]
    }

    /// The boundary of a `multipart/form-data` content type: 1 to 70 characters (RFC 2046), quoted or not.
    public static func boundary(contentType: String) -> String? {
        let items = contentType.split(separator: ";")
        guard let type = items.first, type.trimmingSpaces().lowercased() == "multipart/form-data" else { return nil }
        for parameter in items.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingSpaces().lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingSpaces()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            guard (1...70).contains(value.utf8.count), value.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "\"") }) else {
                return nil
            }
            return String(value)
        }
        return nil
    }

    /// Reads the next chunk of the body.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(Failure) -> [Event] {
        if state == .done { return [] }
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        try process(into: &events)
        return events
    }

    /// Ends the body; throws unless the closing delimiter was read.
    public mutating func finish() throws(Failure) {
        guard state == .done else { throw .malformed }
    }

    /// Every event of a whole body.
    public static func events(of body: some Sequence<UInt8>, boundary: String, maximumParts: Int = 1000) throws(Failure) -> [Event] {
        var parser = MultipartParser(boundary: boundary, maximumParts: maximumParts)
        let events = try parser.feed(body)
        try parser.finish()
        return events
    }

    private mutating func process(into events: inout [Event]) throws(Failure) {
        while true {
            switch state {
            case .preamble:
                guard let index = Self.search(delimiter, in: buffer, from: 0) else {
                    // Keep only what could still begin a delimiter.
                    dropAllBut(delimiter.count - 1)
                    return
                }
                buffer.removeFirst(index + delimiter.count)
                state = .afterDelimiter
            case .afterDelimiter:
                guard buffer.count >= 2 else { return }
                if buffer[0] == UInt8(ascii: "-"), buffer[1] == UInt8(ascii: "-") {
                    state = .done
                    buffer.removeAll()
                    return
                }
                var index = 0
                while index < buffer.count, buffer[index] == 32 || buffer[index] == 9 { index += 1 }
                guard index <= Self.maximumPadding else { throw .malformed }
                guard index + 1 < buffer.count else { return }
                guard buffer[index] == 13, buffer[index + 1] == 10 else { throw .malformed }
                buffer.removeFirst(index + 2)
                parts += 1
                guard parts <= maximumParts else { throw .tooManyParts }
                headerScanned = 0
                state = .headers
            case .headers:
                guard buffer.count >= 2 else { return }
                let head: PartHead
                if buffer[0] == 13, buffer[1] == 10 {
                    // No header lines at all: the blank line follows the delimiter's CRLF at once.
                    buffer.removeFirst(2)
                    head = PartHead()
                } else if let end = Self.search([13, 10, 13, 10], in: buffer, from: headerScanned) {
                    guard end <= Self.maximumHeaderBytes else { throw .headersTooLarge }
                    head = Self.partHead(buffer[..<end])
                    buffer.removeFirst(end + 4)
                } else {
                    guard buffer.count <= Self.maximumHeaderBytes else { throw .headersTooLarge }
                    headerScanned = max(0, buffer.count - 3)
                    return
                }
                events.append(.part(head))
                state = .body
            case .body:
                if let index = Self.search(delimiter, in: buffer, from: 0) {
                    if index > 0 { events.append(.bytes(Array(buffer[..<index]))) }
                    events.append(.partEnd)
                    buffer.removeFirst(index + delimiter.count)
                    state = .afterDelimiter
                } else {
                    let safe = buffer.count - (delimiter.count - 1)
                    if safe > 0 {
                        events.append(.bytes(Array(buffer[..<safe])))
                        buffer.removeFirst(safe)
                    }
                    return
                }
            case .done:
                buffer.removeAll()
                return
            }
        }
    }

    private mutating func dropAllBut(_ keep: Int) {
        if buffer.count > keep { buffer.removeFirst(buffer.count - keep) }
    }

    /// The first index at or after `start` where `needle` occurs in `haystack`.
    static func search(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { pattern in
                var index = start
                let last = hay.count - pattern.count
                while index <= last {
                    if hay[index] == first {
                        var matched = 1
                        while matched < pattern.count, hay[index + matched] == pattern[matched] { matched += 1 }
                        if matched == pattern.count { return index }
                    }
                    index += 1
                }
                return nil
            }
        }
    }

    /// Reads `Content-Disposition` and `Content-Type` from a part's header lines; other headers are ignored.
    static func partHead(_ bytes: ArraySlice<UInt8>) -> PartHead {
        var head = PartHead()
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let field = pair[0].trimmingSpaces().lowercased()
            if field == "content-type" { head.contentType = String(pair[1].trimmingSpaces()) }
            guard field == "content-disposition" else { continue }
            for (key, value) in parameters(pair[1]) {
                if key == "name" { head.name = value }
                if key == "filename" { head.filename = value }
            }
        }
        return head
    }

    /// `form-data; name="a;b"; filename=x`: the parameters after the first `;`, with quoted strings kept whole.
    static func parameters(_ text: Substring) -> [(String, String)] {
        var result: [(String, String)] = []
        var items: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                // Only `\"` and `\\` are escapes; a Windows path keeps its backslashes.
                if character != "\"", character != "\\" { current.append("\\") }
                current.append(character)
                escaped = false
            } else if quoted, character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == ";", !quoted {
                items.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        items.append(current)
        for item in items.dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            result.append((pair[0].trimmingSpaces().lowercased(), String(pair[1].trimmingSpaces())))
        }
        return result
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> SubSequence {
        let start = firstIndex { $0 != " " && $0 != "\t" } ?? endIndex
        let end = lastIndex { $0 != " " && $0 != "\t" }.map { index(after: $0) } ?? start
        return self[start..<Swift.max(start, end)]
    }
}
