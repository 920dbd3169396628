import Foundation
import Yams

/// Turns text into a `YAMLValue` with Psych's (GitLab's YAML library) semantics where they differ from Yams.
enum YAMLLoader {
    /// GitLab refuses parsed documents deeper than this (`MAX_YAML_DEPTH`).
    static let maxDepth = 100
    /// Node visits allowed while expanding aliases, so that alias bombs end in an error, not in memory exhaustion.
    static let maxNodes = 250_000
    /// Raw text larger than this is refused before parsing.
    static let maxBytes = 1_048_576

    static let tooBig = "The parsed YAML is too big"

    static func load(_ text: String) throws(CIConfigError) -> YAMLValue {
        guard text.utf8.count <= maxBytes else { throw CIConfigError(tooBig) }
        // Yams builds the tree recursively; a deeply nested document would exhaust the stack before it returns.
        guard estimatedDepth(of: text) <= maxDepth * 4 else { throw CIConfigError(tooBig) }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw CIConfigError(message(for: error))
        } catch {
            throw CIConfigError("(<unknown>): \(error)")
        }
        guard let root else { return .null }
        var converter = Converter()
        return try converter.convert(root, depth: 0)
    }

    /// A Psych-like message: what went wrong and where.
    static func message(for error: YamlError) -> String {
        func located(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) -> String {
            let during = context.map { " \($0.text)" } ?? ""
            return "(<unknown>): \(problem)\(during) at line \(mark.line) column \(mark.column)"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return located(problem, context, mark)
        case .reader(let problem, let offset, _, let yaml):
            guard let offset else { return "(<unknown>): \(problem)" }
            let prefix = yaml.utf8.prefix(offset)
            let line = prefix.filter { $0 == UInt8(ascii: "\n") }.count + 1
            let column =
                prefix.count - (prefix.lastIndex(of: UInt8(ascii: "\n")).map { prefix.distance(from: prefix.startIndex, to: $0) + 1 } ?? 0) + 1
            return "(<unknown>): \(problem) at line \(line) column \(column)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().joined(separator: ", ")
            return "(<unknown>): duplicated key(s) \(keys) at line \(context.mark.line) column \(context.mark.column)"
        default:
            return "(<unknown>): \(error)"
        }
    }

    /// A rough upper bound on nesting depth: open flow brackets outside quotes and comments, plus block
    /// indentation levels, plus leading `- ` and `? ` indicators on a line. libyaml stops at 1000 levels, but
    /// Yams composes recursively, so a small thread stack could overflow well before that.
    /// A YAML 1.1 base-60 integer (`-1:30:00`, underscores allowed), or nil when it is not one or does not fit in Int.
    static func sexagesimal(_ text: String) -> Int? {
        var digits = Substring(text.replacingOccurrences(of: "_", with: ""))
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        var value = 0
        for part in digits.split(separator: ":", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.utf8.count <= 18, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let number = Int(part) else { return nil }
            let (times, overflowed) = value.multipliedReportingOverflow(by: 60)
            let (sum, overflowedAgain) = times.addingReportingOverflow(number)
            guard !overflowed, !overflowedAgain else { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    static func estimatedDepth(of text: String) -> Int {
        let space = UInt8(ascii: " "), hash = UInt8(ascii: "#")
        var deepest = 0
        var flow = 0
        var indents: [Int] = []
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let column = line.prefix { $0 == space }.count
            let content = line.dropFirst(column)
            guard let first = content.first, first != hash, first != UInt8(ascii: "\r") else { continue }
            while let last = indents.last, last >= column { indents.removeLast() }
            indents.append(column)
            var indicators = 0
            var rest = content[...]
            while rest.count >= 2, rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "?"),
                rest.dropFirst().first == space
            {
                indicators += 1
                rest = rest.dropFirst(2).drop(while: { $0 == space })
            }
            var quote: UInt8?
            var previous = space
            for byte in rest {
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                    quote = byte
                } else if byte == hash && previous == space {
                    break
                } else if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                    flow += 1
                    deepest = max(deepest, flow + indents.count + indicators)
                } else if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                    flow = max(0, flow - 1)
                }
                previous = byte
            }
            deepest = max(deepest, flow + indents.count + indicators)
        }
        return deepest
    }

    private struct Converter {
        var visited = 0

        mutating func convert(_ node: Node, depth: Int) throws(CIConfigError) -> YAMLValue {
            visited += 1
            guard visited <= YAMLLoader.maxNodes, depth <= YAMLLoader.maxDepth else {
                throw CIConfigError(YAMLLoader.tooBig)
            }
            switch node {
            case .scalar(let scalar):
                return try self.scalar(scalar, tag: tagName(of: node))
            case .sequence(let sequence):
                if tagName(of: node).rawValue == "!reference" {
                    var path: [String] = []
                    for item in sequence {
                        guard case .string(let key) = try convert(item, depth: depth + 1) else {
                            throw CIConfigError("!reference tag must be an array of strings")
                        }
                        path.append(key)
                    }
                    guard !path.isEmpty else { throw CIConfigError("!reference tag must be an array of strings") }
                    return .reference(path)
                }
                try requireCoreTag(tagName(of: node), expected: .seq)
                var items: [YAMLValue] = []
                items.reserveCapacity(sequence.count)
                for item in sequence { items.append(try convert(item, depth: depth + 1)) }
                return .sequence(items)
            case .mapping(let mapping):
                try requireCoreTag(tagName(of: node), expected: .map)
                var result = YAMLMapping()
                for (key, value) in mapping {
                    let converted = try convert(value, depth: depth + 1)
                    if tagName(of: key) == .merge {
                        // Psych merges `<<` in place: later keys win, even those merged in after an explicit key.
                        switch converted {
                        case .mapping(let merged):
                            result.merge(merged)
                            continue
                        case .sequence(let items) where items.allSatisfy({ $0.mapping != nil }):
                            var combined = YAMLMapping()
                            for item in items.compactMap(\.mapping).reversed() { combined.merge(item) }
                            result.merge(combined)
                            continue
                        default:
                            break
                        }
                    }
                    result[try keyText(key, depth: depth + 1)] = converted
                }
                return .mapping(result)
            case .alias:
                throw CIConfigError("(<unknown>): unresolved alias")
            }
        }

        /// The resolved tag; Yams only exposes its text publicly.
        private func tagName(of node: Node) -> Tag.Name {
            Tag.Name(rawValue: node.tag.description)
        }

        /// Ruby symbolizes string keys; other scalar keys keep their text, which is what error messages show.
        private mutating func keyText(_ key: Node, depth: Int) throws(CIConfigError) -> String {
            switch try convert(key, depth: depth) {
            case .string(let text): return text
            case .int(let number): return String(number)
            case .bool(let flag): return String(flag)
            case .float(let number): return String(number)
            case .null: return ""
            case .sequence, .mapping, .reference: throw CIConfigError("(<unknown>): mapping keys must be scalars")
            }
        }

        private func requireCoreTag(_ name: Tag.Name, expected: Tag.Name) throws(CIConfigError) {
            guard name == expected else { throw unsupportedTag(name) }
        }

        private func unsupportedTag(_ name: Tag.Name) -> CIConfigError {
            if name.rawValue == "!reference" {
                return CIConfigError("!reference tag must be an array of strings")
            }
            return CIConfigError("(<unknown>): unsupported YAML tag \(name.rawValue)")
        }

        private func scalar(_ scalar: Node.Scalar, tag: Tag.Name) throws(CIConfigError) -> YAMLValue {
            switch tag {
            case .str, .merge, .value, .binary:
                return .string(scalar.string)
            case .null:
                return .null
            case .bool:
                return Bool.construct(from: scalar).map(YAMLValue.bool) ?? .string(scalar.string)
            case .int:
                // Yams multiplies base-60 integers (YAML 1.1's `1:30`) without overflow checks and traps on long ones
                // (found by fuzzing, issue 10); they are read here instead, and one too large for Int stays a string.
                if scalar.string.contains(":") { return YAMLLoader.sexagesimal(scalar.string).map(YAMLValue.int) ?? .string(scalar.string) }
                if let number = Int.construct(from: scalar) { return .int(number) }
                return .string(scalar.string)
            case .float:
                return Double.construct(from: scalar).map(YAMLValue.float) ?? .string(scalar.string)
            case .timestamp:
                // GitLab loads YAML with Psych's safe_load, which refuses dates and times.
                let type = scalar.string.contains(":") ? "Time" : "Date"
                throw CIConfigError("Tried to load unspecified class: \(type)")
            default:
                throw unsupportedTag(tag)
            }
        }
    }
}
