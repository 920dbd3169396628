/// GitLab's `!reference` resolution (Config::Yaml::Tags::Resolver), run after `extends:`.
enum CIReference {
    /// GitLab's `Reference::MAX_NESTING_LEVEL`-like bound on references inside referenced values.
    static let maxNesting = 10

    static func resolve(_ root: YAMLMapping) throws(CIConfigError) -> YAMLMapping {
        var result = YAMLMapping()
        var budget = YAMLLoader.maxNodes
        for entry in root.entries {
            result[entry.key] = try resolve(entry.value, root: root, chain: [], budget: &budget)
        }
        return result
    }

    /// `budget` counts the nodes produced, so references that fan out (a reference bomb) end in an error, not in memory exhaustion.
    private static func resolve(_ value: YAMLValue, root: YAMLMapping, chain: [[String]], budget: inout Int) throws(CIConfigError) -> YAMLValue {
        budget -= 1
        guard budget >= 0 else { throw CIConfigError(YAMLLoader.tooBig) }
        switch value {
        case .reference(let path):
            let shown = "!reference [" + path.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
            if chain.contains(path) { throw CIConfigError("\(shown) is part of a circular chain") }
            guard chain.count < maxNesting else { throw CIConfigError("\(shown) is nested too deeply") }
            var current: YAMLValue = .mapping(root)
            for key in path {
                guard case .mapping(let mapping) = current, let next = mapping[key] else {
                    throw CIConfigError("\(shown) could not be found")
                }
                current = next
            }
            return try resolve(current, root: root, chain: chain + [path], budget: &budget)
        case .sequence(let items):
            var resolved: [YAMLValue] = []
            for item in items { resolved.append(try resolve(item, root: root, chain: chain, budget: &budget)) }
            return .sequence(resolved)
        case .mapping(let mapping):
            var resolved = YAMLMapping()
            for entry in mapping.entries { resolved[entry.key] = try resolve(entry.value, root: root, chain: chain, budget: &budget) }
            return .mapping(resolved)
        default:
            return value
        }
    }
}
