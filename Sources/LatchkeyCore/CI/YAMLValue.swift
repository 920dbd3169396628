/// A YAML document reduced to the shapes `.gitlab-ci.yml` uses, with mapping keys in file order.
indirect enum YAMLValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case sequence([YAMLValue])
    case mapping(YAMLMapping)
    /// `!reference [job, key, ...]`, replaced by the value it names once `extends:` is resolved.
    case reference([String])

    var mapping: YAMLMapping? {
        if case .mapping(let mapping) = self { return mapping }
        return nil
    }

    var isBoolean: Bool {
        if case .bool = self { return true }
        return false
    }

    /// The text of a string scalar.
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The items of a sequence of strings (GitLab's `array_of_strings`).
    var strings: [String]? {
        guard case .sequence(let items) = self else { return nil }
        var result: [String] = []
        for item in items {
            guard case .string(let text) = item else { return nil }
            result.append(text)
        }
        return result
    }

    /// Ruby's `String#to_s` of the value, used where GitLab stringifies (variable values).
    var scalarText: String? {
        switch self {
        case .string(let text): text
        case .int(let number): String(number)
        default: nil
        }
    }

    /// GitLab's `blank?`: nil, false, empty or whitespace-only strings, empty collections.
    var isBlank: Bool {
        switch self {
        case .null: true
        case .bool(let flag): !flag
        case .string(let text): text.allSatisfy(\.isWhitespace)
        case .sequence(let items): items.isEmpty
        case .mapping(let mapping): mapping.isEmpty
        case .int, .float, .reference: false
        }
    }
}

/// An insertion-ordered mapping, like a Ruby Hash.
struct YAMLMapping: Equatable, Sendable {
    struct Entry: Equatable, Sendable {
        var key: String
        var value: YAMLValue
    }

    private(set) var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }
    var keys: [String] { entries.map(\.key) }

    subscript(key: String) -> YAMLValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }

    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The value of `key` unless it is absent or null: GitLab treats `key: null` as not given.
    func present(_ key: String) -> YAMLValue? {
        guard let value = self[key], value != .null else { return nil }
        return value
    }

    /// Ruby's `Hash#merge!`: existing keys keep their place, new ones go to the end.
    mutating func merge(_ other: YAMLMapping) {
        for entry in other.entries { self[entry.key] = entry.value }
    }

    /// ActiveSupport's `Hash#deep_merge`: nested hashes merge, everything else (arrays included) is replaced.
    func deepMerged(with other: YAMLMapping) -> YAMLMapping {
        var result = self
        for entry in other.entries {
            if case .mapping(let mine)? = result[entry.key], case .mapping(let theirs) = entry.value {
                result[entry.key] = .mapping(mine.deepMerged(with: theirs))
            } else {
                result[entry.key] = entry.value
            }
        }
        return result
    }
}
