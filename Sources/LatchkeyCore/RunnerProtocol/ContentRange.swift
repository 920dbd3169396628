import Foundation

/// The `Content-Range` of a runner's trace `PATCH`: `start-end`, as gitlab-runner writes it.
///
/// Also accepts the RFC 9110 spelling `bytes start-end/total` (or `/*`). Both bounds are plain decimal digits
/// (no sign, no spaces inside), `end` is at least `start - 1` (an empty chunk), and neither overflows `Int64`.
/// GitLab itself only uses `start`; `end` is checked for shape, not against the body's length.
public struct ContentRange: Sendable, Equatable {
    /// Offset of the chunk's first byte in the trace.
    public let start: Int64
    /// Offset of the chunk's last byte (gitlab-runner sends `start + count - 1`).
    public let end: Int64

    /// Why a `Content-Range` was refused; every case is answered 400.
    public enum ParseError: Error, Equatable, Sendable {
        case malformed
    }

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// Longest header we look at; a valid one is at most `bytes ` + 3 × 19 digits + 2 separators.
    static let maximumLength = 128

    /// Reads a `Content-Range` header value.
    public static func parse(_ text: String) throws(ParseError) -> ContentRange {
        guard text.utf8.count <= maximumLength else { throw .malformed }
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.lowercased().hasPrefix("bytes ") { rest = rest.dropFirst(6).drop { $0 == " " } }
        if let slash = rest.firstIndex(of: "/") {
            let total = rest[rest.index(after: slash)...]
            guard total == "*" || decimal(total) != nil else { throw .malformed }
            rest = rest[..<slash]
        }
        guard let dash = rest.firstIndex(of: "-"),
            let start = decimal(rest[..<dash]),
            let end = decimal(rest[rest.index(after: dash)...]),
            end >= start - 1
        else { throw .malformed }
        return ContentRange(start: start, end: end)
    }

    /// A non-negative decimal made of ASCII digits only, or nil (also when it overflows).
    static func decimal(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int64(text)
    }
}
