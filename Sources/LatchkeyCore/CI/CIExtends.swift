/// GitLab's `extends:` (Config::Extendable): deep-merges each job over the hashes it names, before validation.
enum CIExtends {
    /// GitLab's `MAX_NESTING_LEVELS`.
    static let maxNestingLevels = 10

    static func resolve(_ root: YAMLMapping) throws(CIConfigError) -> YAMLMapping {
        var context = root
        var done: Set<String> = []
        for key in root.keys {
            _ = try extend(key, context: &context, done: &done, ancestors: [])
        }
        return context
    }

    private static func extend(
        _ key: String,
        context: inout YAMLMapping,
        done: inout Set<String>,
        ancestors: [String]
    ) throws(CIConfigError) -> YAMLValue? {
        guard let value = context[key] else { return nil }
        // Resolving a base once keeps wide `extends` trees linear instead of exponential.
        if done.contains(key) { return value }
        guard case .mapping(let mapping) = value, let extends = mapping["extends"] else { return value }
        let bases = baseNames(extends)

        let unknown = bases.filter { !context.has($0) }
        if !unknown.isEmpty {
            throw CIConfigError("\(key): unknown keys in `extends` (\(unknown.joined(separator: ", ")))")
        }
        let invalid = bases.filter { context[$0]?.mapping == nil }
        if !invalid.isEmpty {
            throw CIConfigError("\(key): invalid base hashes in `extends` (\(invalid.joined(separator: ", ")))")
        }
        if ancestors.count > maxNestingLevels {
            throw CIConfigError("\(key): nesting too deep in `extends`")
        }
        if ancestors.contains(key) {
            throw CIConfigError("\(key): circular dependency detected in `extends`")
        }

        var merged = YAMLMapping()
        for base in bases {
            if case .mapping(let resolved)? = try extend(base, context: &context, done: &done, ancestors: ancestors + [key]) {
                merged = merged.deepMerged(with: resolved)
            }
        }
        let result = YAMLValue.mapping(merged.deepMerged(with: mapping))
        context[key] = result
        done.insert(key)
        return result
    }

    /// Ruby's `Array(extends).map(&:to_s)`; a wrong type is reported later by the job's own validation.
    private static func baseNames(_ value: YAMLValue) -> [String] {
        switch value {
        case .sequence(let items): items.map(rubyText)
        case .null: []
        default: [rubyText(value)]
        }
    }

    static func rubyText(_ value: YAMLValue) -> String {
        switch value {
        case .null: ""
        case .bool(let flag): String(flag)
        case .int(let number): String(number)
        case .float(let number): String(number)
        case .string(let text): text
        case .sequence(let items): "[" + items.map(rubyText).joined(separator: ", ") + "]"
        case .mapping(let mapping): "{" + mapping.keys.joined(separator: ", ") + "}"
        case .reference(let path): "!reference [" + path.joined(separator: ", ") + "]"
        }
    }
}
