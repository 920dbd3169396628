/// A small pull reader for the XML that test tools write (JUnit reports): elements, attributes, text, CDATA, comments and
/// processing instructions. It refuses DOCTYPE outright, so no entity is ever defined and nothing external is ever read
/// (no XXE, no billion laughs); only the five predefined entities and character references are expanded.
public struct XMLReader {
    /// One thing read.
    public enum Event: Equatable, Sendable {
        case start(name: String, attributes: [String: String])
        case end(name: String)
        case text(String)
    }

    /// Why the document was refused, worded for a report's reader.
    public enum Failure: Error, Equatable, Sendable {
        case malformed(String)
        case doctype
        case tooDeep

        public var message: String {
            switch self {
            case .malformed(let reason): reason
            case .doctype: "DOCTYPE is not allowed"
            case .tooDeep: "elements are nested too deeply"
            }
        }
    }

    /// Deepest element nesting accepted.
    public static let maximumDepth = 256
    /// Most attributes on one element.
    public static let maximumAttributes = 256

    private let bytes: [UInt8]
    private var position = 0
    private var open: [String] = []
    private var pendingEnd: String?
    private var sawRoot = false

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark is not content.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
    }

    /// The next event; nil once the document has ended, after checking that every element was closed.
    public mutating func next() throws(Failure) -> Event? {
        if let name = pendingEnd {
            pendingEnd = nil
            return .end(name: name)
        }
        while position < bytes.count {
            if bytes[position] != UInt8(ascii: "<") {
                let start = position
                while position < bytes.count, bytes[position] != UInt8(ascii: "<") { position += 1 }
                let raw = bytes[start..<position]
                if open.isEmpty {
                    guard raw.allSatisfy(Self.isSpace) else { throw .malformed("text outside the root element") }
                    continue
                }
                return .text(try Self.decode(raw))
            }
            if matches("<!--") {
                guard let end = find("-->", from: position + 4) else { throw .malformed("unterminated comment") }
                position = end + 3
                continue
            }
            if matches("<![CDATA[") {
                guard !open.isEmpty else { throw .malformed("CDATA outside the root element") }
                guard let end = find("]]>", from: position + 9) else { throw .malformed("unterminated CDATA section") }
                let text = String(decoding: bytes[(position + 9)..<end], as: UTF8.self)
                position = end + 3
                return .text(text)
            }
            if matches("<!") { throw .doctype }
            if matches("<?") {
                guard let end = find("?>", from: position + 2) else { throw .malformed("unterminated processing instruction") }
                position = end + 2
                continue
            }
            if matches("</") {
                position += 2
                let name = readName()
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ">") else { throw .malformed("malformed end tag") }
                position += 1
                guard let last = open.popLast(), last == name else { throw .malformed("mismatched end tag \(name)") }
                return .end(name: name)
            }
            return try readStartTag()
        }
        guard open.isEmpty else { throw .malformed("unclosed element \(open.last ?? "")") }
        guard sawRoot else { throw .malformed("no root element") }
        return nil
    }

    private mutating func readStartTag() throws(Failure) -> Event {
        position += 1
        let name = readName()
        guard !name.isEmpty else { throw .malformed("malformed start tag") }
        if open.isEmpty {
            guard !sawRoot else { throw .malformed("more than one root element") }
            sawRoot = true
        }
        var attributes: [String: String] = [:]
        while true {
            skipSpace()
            guard position < bytes.count else { throw .malformed("unterminated start tag \(name)") }
            if bytes[position] == UInt8(ascii: ">") {
                position += 1
                open.append(name)
                guard open.count <= Self.maximumDepth else { throw .tooDeep }
                return .start(name: name, attributes: attributes)
            }
            if matches("/>") {
                position += 2
                pendingEnd = name
                guard open.count < Self.maximumDepth else { throw .tooDeep }
                return .start(name: name, attributes: attributes)
            }
            let key = readName()
            guard !key.isEmpty else { throw .malformed("malformed attribute in \(name)") }
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "=") else { throw .malformed("attribute \(key) has no value") }
            position += 1
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'") else {
                throw .malformed("attribute \(key) is not quoted")
            }
            let quote = bytes[position]
            let start = position + 1
            guard let end = bytes[start...].firstIndex(of: quote) else { throw .malformed("unterminated attribute \(key)") }
            let raw = bytes[start..<end]
            guard !raw.contains(UInt8(ascii: "<")) else { throw .malformed("'<' in attribute \(key)") }
            attributes[key] = try Self.decode(raw)
            guard attributes.count <= Self.maximumAttributes else { throw .malformed("too many attributes in \(name)") }
            position = end + 1
        }
    }

    private func matches(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { buffer in
            for index in 0..<count where bytes[position + index] != buffer[index] { return false }
            return true
        }
    }

    private func find(_ literal: StaticString, from start: Int) -> Int? {
        literal.withUTF8Buffer { needle -> Int? in
            guard needle.count > 0, start + needle.count <= bytes.count else { return nil }
            var index = start
            while index + needle.count <= bytes.count {
                if bytes[index] == needle[0] {
                    var offset = 1
                    while offset < needle.count, bytes[index + offset] == needle[offset] { offset += 1 }
                    if offset == needle.count { return index }
                }
                index += 1
            }
            return nil
        }
    }

    private mutating func readName() -> String {
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if Self.isSpace(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "<")
                || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
            {
                break
            }
            position += 1
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func skipSpace() {
        while position < bytes.count, Self.isSpace(bytes[position]) { position += 1 }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Text with the predefined entities and character references expanded; any other `&` is an error, as in XML.
    static func decode(_ raw: ArraySlice<UInt8>) throws(Failure) -> String {
        guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
        var output: [UInt8] = []
        output.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            guard byte == UInt8(ascii: "&") else {
                output.append(byte)
                index += 1
                continue
            }
            guard let semicolon = raw[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else { throw .malformed("malformed entity reference") }
            let name = String(decoding: raw[(index + 1)..<semicolon], as: UTF8.self)
            switch name {
            case "lt": output.append(UInt8(ascii: "<"))
            case "gt": output.append(UInt8(ascii: ">"))
            case "amp": output.append(UInt8(ascii: "&"))
            case "quot": output.append(UInt8(ascii: "\""))
            case "apos": output.append(UInt8(ascii: "'"))
            default:
                let value: UInt32? =
                    if name.hasPrefix("#x") || name.hasPrefix("#X") { UInt32(name.dropFirst(2), radix: 16) } else if name.hasPrefix("#") {
                        UInt32(name.dropFirst(), radix: 10)
                    } else { nil }
                guard let value, value != 0, let scalar = Unicode.Scalar(value) else { throw .malformed("undefined entity &\(name);") }
                output.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
            index = semicolon + 1
        }
        return String(decoding: output, as: UTF8.self)
    }
}
