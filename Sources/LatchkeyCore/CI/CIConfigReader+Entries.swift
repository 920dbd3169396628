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
                // `expand: false` reaches the runner as `raw: true`, so it does not expand `$` in the value.
                variables.append(CIVariable(key: entry.key, value: text, raw: data.present("expand") == .bool(false)))
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
        // `public` and `access` are accepted and not acted on: they shape who may download, which AccessPolicy decides.
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
        artifacts.untracked = mapping.present("untracked") == .bool(true)
        artifacts.hasArchive = mapping.present("paths") != nil || artifacts.untracked
        if let exclude = mapping.present("exclude") {
            if let strings = exclude.strings { artifacts.exclude = strings } else { fail(location, "exclude should be an array of strings") }
        }
        if let exposeAs = mapping.present("expose_as") {
            // GitLab's `Entry::Artifacts` rules for the merge request widget's label.
            if let text = exposeAs.stringValue {
                if text.count > 100 {
                    fail(location, "expose as is too long (maximum is 100 characters)")
                } else if !text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || " _-".contains($0)) }) {
                    fail(location, "expose as can contain only letters, digits, '-', '_' and spaces")
                } else if !mapping.has("paths") {
                    fail(location, "expose as when `expose_as` is set `paths` must be defined")
                } else if artifacts.paths.contains(where: { $0.contains("*") }) {
                    fail(location, "expose as paths can't contain '*' when used with 'exposed_as'")
                } else {
                    artifacts.exposeAs = text
                }
            } else {
                fail(location, "expose as should be a string")
            }
        }
        if let reports = mapping.present("reports") {
            artifacts.reports = readReports(reports, location: "\(location):reports") ?? []
        }
        return artifacts
    }

    /// GitLab's `Entry::Reports::ALLOWED_KEYS`.
    static let reportKeys: Set<String> = Set(ArtifactReport.formats.keys).subtracting(["cobertura", "jacoco"]).union(["coverage_report"])

    /// `artifacts:reports:`: each report a path or paths; `coverage_report` a format and one path.
    mutating func readReports(_ value: YAMLValue, location: String) -> [ArtifactReport]? {
        guard case .mapping(let mapping) = value else {
            fail(location, "config should be a hash")
            return nil
        }
        checkKeys(mapping, location: location, known: Self.reportKeys, unsupported: [])
        var reports: [ArtifactReport] = []
        for entry in mapping.entries where Self.reportKeys.contains(entry.key) {
            if entry.key == "coverage_report" {
                guard case .mapping(let coverage) = entry.value else {
                    fail(location, "coverage report should be a hash")
                    continue
                }
                checkKeys(coverage, location: "\(location):coverage_report", known: ["coverage_format", "path"], unsupported: [])
                let format = coverage.present("coverage_format")?.stringValue
                guard let format, ["cobertura", "jacoco"].contains(format) else {
                    fail("\(location):coverage_report", "coverage format must be one of supported formats: cobertura, jacoco")
                    continue
                }
                guard let path = coverage.present("path")?.stringValue, !path.isEmpty else {
                    fail("\(location):coverage_report", "path can't be blank")
                    continue
                }
                reports.append(ArtifactReport(type: format, paths: [path]))
            } else if let path = entry.value.stringValue {
                reports.append(ArtifactReport(type: entry.key, paths: [path]))
            } else if let paths = entry.value.strings {
                reports.append(ArtifactReport(type: entry.key, paths: paths))
            } else {
                fail(location, "\(entry.key.replacingOccurrences(of: "_", with: " ")) should be an array of strings or a string")
            }
        }
        return reports
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

    mutating func readBoolean(_ value: YAMLValue, location: String) -> Bool? {
        guard case .bool(let flag) = value else {
            fail(location, "config should be a boolean value")
            return nil
        }
        return flag
    }

    /// `retry:`: a count, or `max`, `when` (GitLab's failure reasons) and `exit_codes`.
    mutating func readRetry(_ value: YAMLValue, location: String) -> JobRetry? {
        switch value {
        case .int(let count):
            guard (0...2).contains(count) else {
                fail(location, "config must be a non negative integer less than or equal to 2")
                return nil
            }
            return JobRetry(max: count)
        case .mapping(let mapping):
            checkKeys(mapping, location: location, known: ["max", "when", "exit_codes"], unsupported: [])
            var retry = JobRetry(max: 0)
            if let max = mapping.present("max") {
                if case .int(let count) = max, (0...2).contains(count) {
                    retry.max = count
                } else {
                    fail(location, "max config must be a non negative integer less than or equal to 2")
                }
            }
            if let when = mapping.present("when") {
                let reasons = when.strings ?? when.stringValue.map { [$0] }
                if let reasons, reasons.allSatisfy(JobRetry.failureReasons.contains) {
                    retry.when = reasons
                } else if reasons != nil {
                    fail(location, "when config should be one of the following values: \(JobRetry.failureReasons.joined(separator: ", "))")
                } else {
                    fail(location, "when config should be an array of strings or a string")
                }
            }
            if let codes = mapping.present("exit_codes") { retry.exitCodes = readExitCodes(codes, location: location) ?? [] }
            return retry
        default:
            fail(location, "config has to be either an integer or a hash")
            return nil
        }
    }

    /// `exit_codes:` an integer or an array of at most 50 distinct integers.
    mutating func readExitCodes(_ value: YAMLValue, location: String) -> [Int]? {
        var codes: [Int] = []
        switch value {
        case .int(let code): codes = [code]
        case .sequence(let items):
            for item in items {
                guard case .int(let code) = item else {
                    fail(location, "exit codes should be an array of integers or an integer")
                    return nil
                }
                codes.append(code)
            }
        default:
            fail(location, "exit codes should be an array of integers or an integer")
            return nil
        }
        if codes.count > 50 {
            fail(location, "exit codes must be less than or equal to 50")
            return nil
        }
        return codes
    }

    /// GitLab's `Entry::Product::Parallel::PARALLEL_LIMIT`.
    static let maxParallel = 200

    /// `parallel: N` (2…200 jobs) or `parallel: matrix: [...]`.
    mutating func readParallel(_ value: YAMLValue, location: String) -> CIReadParallel? {
        switch value {
        case .int(let count):
            guard count >= 1 else {
                fail(location, "config must be greater than or equal to 1")
                return nil
            }
            guard count <= Self.maxParallel else {
                fail(location, "config must be less than or equal to \(Self.maxParallel)")
                return nil
            }
            return .count(count)
        case .mapping(let mapping):
            checkKeys(mapping, location: location, known: ["matrix"], unsupported: [])
            guard case .sequence(let entries)? = mapping.present("matrix") else {
                fail("\(location):matrix", "config should be an array of hashes")
                return nil
            }
            var rows: [[CIVariable]] = []
            for entry in entries {
                guard case .mapping(let variables) = entry, !variables.isEmpty else {
                    fail("\(location):matrix", "config should be an array of hashes")
                    return nil
                }
                // Each entry is the cartesian product of its variables' values, first key varying slowest (Ruby's `product`).
                var combinations: [[CIVariable]] = [[]]
                for variable in variables.entries {
                    let values: [String]
                    if let text = variable.value.scalarText {
                        values = [text]
                    } else if case .sequence(let items) = variable.value, !items.isEmpty, items.allSatisfy({ $0.scalarText != nil }) {
                        values = items.compactMap(\.scalarText)
                    } else {
                        fail("\(location):matrix:\(variable.key)", "config should be an array of strings or a string")
                        return nil
                    }
                    combinations = combinations.flatMap { prefix in values.map { prefix + [CIVariable(key: variable.key, value: $0)] } }
                    if combinations.count + rows.count > Self.maxParallel { break }
                }
                rows += combinations
                if rows.count > Self.maxParallel {
                    fail("\(location):matrix", "config generates too many jobs (maximum is \(Self.maxParallel))")
                    return nil
                }
            }
            return .matrix(rows)
        default:
            fail(location, "should be an integer or a hash")
            return nil
        }
    }

    /// `inherit: default:` and `inherit: variables:` — `true`, `false` or a list of names.
    mutating func readInherit(_ value: YAMLValue, location: String) -> CIReadInherit? {
        guard case .mapping(let mapping) = value else {
            fail(location, "config should be a hash")
            return nil
        }
        checkKeys(mapping, location: location, known: ["default", "variables"], unsupported: [])
        var inherit = CIReadInherit()
        for key in ["default", "variables"] {
            guard let entry = mapping.present(key) else { continue }
            let choice: CIReadInherit.Choice
            if case .bool(let flag) = entry {
                choice = flag ? .all : .none
            } else if let names = entry.strings {
                choice = .only(names)
            } else {
                fail("\(location):\(key)", "config should be a boolean value or an array of strings")
                continue
            }
            if key == "default" { inherit.defaults = choice } else { inherit.variables = choice }
        }
        return inherit
    }
}

/// `parallel:` as written.
enum CIReadParallel: Equatable {
    case count(Int)
    case matrix([[CIVariable]])
}

/// `inherit:` as written.
struct CIReadInherit: Equatable {
    enum Choice: Equatable {
        case all
        case none
        case only([String])

        func allows(_ name: String) -> Bool {
            switch self {
            case .all: true
            case .none: false
            case .only(let names): names.contains(name)
            }
        }
    }

    var defaults: Choice = .all
    var variables: Choice = .all
}
