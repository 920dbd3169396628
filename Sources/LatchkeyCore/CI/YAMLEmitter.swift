/// Writes a `YAMLValue` back as block-style YAML in the shape Ruby's `to_yaml` gives (`---` first, two-space indents,
/// `- ` items), for GitLab's `merged_yaml`. Scalars that YAML would read as something else are single-quoted.
enum YAMLEmitter {
    static func document(_ mapping: YAMLMapping) -> String {
        var output = "---\n"
        if mapping.isEmpty { return "--- {}\n" }
        write(mapping, indent: 0, into: &output)
        return output
    }

    private static func write(_ mapping: YAMLMapping, indent: Int, into output: inout String) {
        let pad = String(repeating: " ", count: indent)
        for entry in mapping.entries {
            output += pad + scalar(entry.key) + ":"
            writeValue(entry.value, indent: indent, into: &output)
        }
    }

    /// The value after `key:` or `-`: inline for scalars and empty collections, else on the following lines.
    private static func writeValue(_ value: YAMLValue, indent: Int, inSequence: Bool = false, into output: inout String) {
        switch value {
        case .mapping(let mapping) where !mapping.isEmpty:
            if inSequence {
                // `- key: value` with the rest of the mapping aligned under the first key.
                var nested = ""
                write(mapping, indent: indent + 2, into: &nested)
                output += " " + nested.dropFirst(indent + 2)
            } else {
                output += "\n"
                write(mapping, indent: indent + 2, into: &output)
            }
        case .sequence(let items) where !items.isEmpty:
            output += "\n"
            // Psych indents a sequence under a mapping key at the key's own column.
            let itemIndent = inSequence ? indent + 2 : indent
            let pad = String(repeating: " ", count: itemIndent)
            for item in items {
                output += pad + "-"
                writeValue(item, indent: itemIndent, inSequence: true, into: &output)
            }
        default:
            output += " " + inline(value) + "\n"
        }
    }

    private static func inline(_ value: YAMLValue) -> String {
        switch value {
        case .null: ""
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .float(let number): number.isNaN ? ".nan" : number.isInfinite ? (number < 0 ? "-.inf" : ".inf") : String(number)
        case .string(let text): scalar(text)
        case .sequence: "[]"
        case .mapping: "{}"
        case .reference(let path): "!reference [" + path.map(scalar).joined(separator: ", ") + "]"
        }
    }

    /// A string as a plain scalar when YAML reads it back as the same string, else single-quoted (or double-quoted with escapes
    /// when it holds a line break or control character).
    static func scalar(_ text: String) -> String {
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            var escaped = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\\": escaped += "\\\\"
                case "\"": escaped += "\\\""
                case "\n": escaped += "\\n"
                case "\t": escaped += "\\t"
                case "\r": escaped += "\\r"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        let hex = String(scalar.value, radix: 16, uppercase: true)
                        escaped += "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                    } else {
                        escaped.unicodeScalars.append(scalar)
                    }
                }
            }
            return escaped + "\""
        }
        return needsQuotes(text) ? "'" + text.replacingOccurrences(of: "'", with: "''") + "'" : text
    }

    private static func needsQuotes(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last else { return true }
        if first == " " || last == " " { return true }
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
            // `-x` and `:x` stay plain in Psych only when followed by something safe; quote them all.
            return true
        }
        if text.contains(": ") || text.contains(" #") || text.hasSuffix(":") { return true }
        let lowered = text.lowercased()
        let special: Set<String> = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".nan", ".inf", "-.inf", "<<", "="]
        if special.contains(lowered) { return true }
        // Anything YAML would read as a number or a date.
        if Double(text) != nil || Int(text) != nil { return true }
        if text.hasPrefix("0x") || text.hasPrefix("0o") || text.hasPrefix("0b") { return true }
        let digitsAndPunctuation = text.allSatisfy { $0.isNumber || "-:._+ ".contains($0) }
        if digitsAndPunctuation, text.contains(where: \.isNumber) { return true }
        return false
    }
}
