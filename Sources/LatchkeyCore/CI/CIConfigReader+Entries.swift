extension CIConfigReader {
    /// GitLab's `Commands::MAX_NESTING_LEVEL` for scripts.
    static let maxScriptNesting = 10
    /// GitLab's `Tags::TAGS_LIMIT`.
    static let maxTags = 50
    /// `Project::MAX_BUILD_TIMEOUT` (ActiveSupport's month); a timeout must be strictly shorter.
    static let maxTimeoutSeconds = 2_629_746

    /// A script: a string or nested arrays of strings, flattened the way GitLab flattens them.
    mutating func readCommands(_ value: YAMLValue, location: String) -> [String] {
        if case .string(let line) = value { return [line] }
        var lines: [String] = []
        func flatten(_ value: YAMLValue, level: Int) -> Bool {
            switch value {
            case .string(let line):
                lines.append(line)
                return true
            case .sequence(let items) where level < Self.maxScriptNesting:
                return items.allSatisfy { flatten($0, level: level + 1) }
            default:
                return false
            }
        }
        guard case .sequence = value, flatten(value, level: 0) else {
            fail(location, "config should be a string or a nested array of strings up to \(Self.maxScriptNesting) levels deep")
            return []
        }
        return lines
    }

    /// `variables:`; `allowedData` is what the long form may hold there (the top level allows more than jobs).
    mutating func readVariables(_ value: YAMLValue, location: String, allowedData: [String]) -> [CIVariable] {
        guard case .mapping(let mapping) = value else {
            fail(location, "config should be a hash")
            return []
        }
        var variables: [CIVariable] = []
        for entry in mapping.entries {
            let variableLocation = "\(location):\(entry.key)"
            switch entry.value {
            case .string, .int:
                variables.append(CIVariable(key: entry.key, value: entry.value.scalarText ?? ""))
            case .mapping(let data):
                let extra = data.keys.filter { !allowedData.contains($0) }
                if !extra.isEmpty {
                    fail(variableLocation, "config uses invalid data keys: \(extra.joined(separator: ", "))")
                }
                var text = ""
                if let raw = data.present("value") {
                    if let scalar = raw.scalarText { text = scalar } else { fail(variableLocation, "config value must be an alphanumeric string") }
                }
                if let description = data.present("description"), description.scalarText == nil {
                    fail(variableLocation, "config description must be an alphanumeric string")
                }
                if let expand = data.present("expand"), !expand.isBoolean {
                    fail(variableLocation, "config expand should be a boolean value")
                }
                if let options = data.present("options") {
                    if let choices = options.strings {
                        if !choices.isEmpty, !choices.contains(text) { fail(variableLocation, "config value must be present in options") }
                    } else {
                        fail(variableLocation, "config options should be an array of strings")
                    }
                }
                variables.append(CIVariable(key: entry.key, value: text))
            default:
                // Booleans, floats and nulls are refused by GitLab too; its message names no location.
                failVerbatim("variable definition must be either a string or a hash")
            }
        }
        return variables
    }

    mutating func readArtifacts(_ value: YAMLValue, location: String) -> ArtifactsDefinition? {
        guard case .mapping(let mapping) = value else {
            fail(location, "config should be a hash")
            return nil
        }
        // `reports`, `expose_as`, `exclude`, `untracked`, `public` and `access` are accepted and ignored:
        // they shape how GitLab shows or filters artifacts, not whether a job runs.
        checkKeys(
            mapping,
            location: location,
            known: ["name", "untracked", "paths", "reports", "when", "expire_in", "expose_as", "exclude", "public", "access"],
            unsupported: []
        )
        var artifacts = ArtifactsDefinition()
        if let name = mapping.present("name") {
            if let text = name.stringValue { artifacts.name = text } else { fail(location, "name should be a string") }
        }
        if let paths = mapping.present("paths") {
            if let strings = paths.strings { artifacts.paths = strings } else { fail(location, "paths should be an array of strings") }
        }
        if let when = mapping.present("when") {
            let allowed = ArtifactsWhen.allCases.map(\.rawValue)
            if when.stringValue == nil { fail(location, "when should be a string") }
            if let parsed = when.stringValue.flatMap(ArtifactsWhen.init(rawValue:)) {
                artifacts.when = parsed
            } else {
                fail(location, "when should be one of: \(allowed.joined(separator: ", "))")
            }
        }
        if let expireIn = mapping.present("expire_in") {
            switch expireIn.stringValue.flatMap(CIDuration.expiry) {
            case .never?:
                artifacts.expireIn = expireIn.stringValue
            case .after(let seconds)?:
                artifacts.expireIn = expireIn.stringValue
                artifacts.expireInSeconds = seconds
            case nil:
                fail(location, "expire in should be a duration")
            }
        }
        for flag in ["untracked", "public"] {
            if let value = mapping.present(flag), !value.isBoolean {
                fail(location, "\(flag) should be a boolean value")
            }
        }
        return artifacts
    }

    /// A duration string shorter than a month; GitLab refuses numbers here, so `timeout: 3600` is an error.
    mutating func readTimeout(_ value: YAMLValue, location: String) -> Int? {
        guard let seconds = value.stringValue.flatMap(CIDuration.seconds) else {
            fail(location, "config should be a duration")
            fail(location, "config should not exceed the limit")
            return nil
        }
        guard seconds < Self.maxTimeoutSeconds else {
            fail(location, "config should not exceed the limit")
            return nil
        }
        return seconds
    }

    mutating func readTags(_ value: YAMLValue, location: String) -> [String]? {
        guard let tags = value.strings else {
            fail(location, "config should be an array of strings")
            return nil
        }
        if tags.count > Self.maxTags {
            fail(location, "config must be less than the limit of \(Self.maxTags) tags")
            return nil
        }
        return tags
    }

    /// An image name, from `image: name` or `image: {name: ...}`.
    mutating func readImage(_ value: YAMLValue, location: String) -> String? {
        switch value {
        case .string(let name):
            return name
        case .mapping(let mapping):
            checkKeys(
                mapping,
                location: location,
                known: ["name", "entrypoint", "ports", "pull_policy", "docker", "kubernetes"],
                unsupported: []
            )
            guard let name = mapping.present("name")?.stringValue else {
                fail(location, "config name can't be blank")
                return nil
            }
            return name
        default:
            fail(location, "config should be a hash or a string")
            return nil
        }
    }

    mutating func readBoolean(_ value: YAMLValue, location: String) -> Bool? {
        guard case .bool(let flag) = value else {
            fail(location, "config should be a boolean value")
            return nil
        }
        return flag
    }

    /// `retry:` is checked and then ignored: Latchkey does not retry jobs by itself yet.
    mutating func readRetry(_ value: YAMLValue, location: String) {
        switch value {
        case .int(let count):
            if !(0...2).contains(count) { fail(location, "config must be a non negative integer less than or equal to 2") }
        case .mapping(let mapping):
            checkKeys(mapping, location: location, known: ["max", "when", "exit_codes"], unsupported: [])
            if let max = mapping.present("max") {
                if case .int(let count) = max, (0...2).contains(count) {
                } else {
                    fail(location, "max config must be a non negative integer less than or equal to 2")
                }
            }
        default:
            fail(location, "config has to be either an integer or a hash")
        }
    }
}
