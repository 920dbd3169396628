extension CIConfigReader {
    /// The keys of a trigger (bridge) job: `trigger` and GitLab's `PROCESSABLE_ALLOWED_KEYS`, with `parallel` and `environment`.
    static let bridgeKeys: Set<String> = [
        "trigger", "extends", "stage", "only", "except", "rules", "variables", "inherit", "allow_failure", "when", "needs", "resource_group",
        "parallel", "environment",
    ]
    /// A trigger job's deployment would need the downstream pipeline's outcome recorded as one; not built yet.
    static let unsupportedBridgeKeys: Set<String> = ["environment"]
    /// `Entry::Bridge::ALLOWED_WHEN`.
    static let bridgeWhens = ["on_success", "on_failure", "always", "manual"]

    /// Whether GitLab's `Jobs.find_type` reads this job as a bridge: `trigger` and neither `script` nor `run`.
    static func isBridge(_ mapping: YAMLMapping) -> Bool {
        mapping.has("trigger") && !mapping.has("script") && !mapping.has("run")
    }

    /// `trigger:` as GitLab's `Entry::Trigger` reads it: a project path, a mapping naming `project` (with `branch`, `strategy`,
    /// `forward`) or `include` (a child pipeline of up to three files). The project and branch keep their variables; they are
    /// expanded when the pipeline is made.
    mutating func readTrigger(_ value: YAMLValue, location: String) -> CITrigger? {
        switch value {
        case .string(let path):
            guard !path.allSatisfy(\.isWhitespace) else {
                fail(location, "config can't be blank")
                return nil
            }
            return CITrigger(target: .project(path: path, branch: nil))
        case .mapping(let mapping):
            let before = errors.count
            let isChild = mapping.has("include")
            if !isChild && !mapping.has("project") {
                fail(location, "config must specify either project or include")
                return nil
            }
            checkKeys(
                mapping, location: location, known: isChild ? ["strategy", "include", "forward"] : ["project", "branch", "strategy", "forward", "inputs"],
                unsupported: ["inputs"])
            var trigger = CITrigger(target: .project(path: "", branch: nil))
            if let strategy = mapping.present("strategy") {
                if let text = strategy.stringValue {
                    if text == "depend" { trigger.dependsOnDownstream = true } else { fail(location, "strategy should be depend") }
                } else {
                    fail(location, "strategy should be a string")
                }
            }
            if let forward = mapping.present("forward") { readForward(forward, location: "\(location):forward", into: &trigger) }
            if isChild {
                if let configuration = readChildInclude(mapping.present("include"), location: "\(location):include") {
                    trigger.target = .child(configuration: configuration)
                }
            } else {
                let project = mapping.present("project")
                let branch = mapping.present("branch")
                if let text = project?.stringValue {
                    if text.allSatisfy(\.isWhitespace) { fail(location, "project can't be blank") }
                } else {
                    fail(location, "project should be a string")
                }
                if let branch, branch.stringValue == nil { fail(location, "branch should be a string") }
                trigger.target = .project(path: project?.stringValue ?? "", branch: branch?.stringValue)
            }
            return errors.count == before ? trigger : nil
        default:
            fail(location, "has to be either a string or a hash")
            return nil
        }
    }

    private mutating func readForward(_ value: YAMLValue, location: String, into trigger: inout CITrigger) {
        guard case .mapping(let mapping) = value else {
            fail(location, "config should be a hash")
            return
        }
        checkKeys(mapping, location: location, known: ["yaml_variables", "pipeline_variables"], unsupported: [])
        if let flag = mapping.present("yaml_variables") {
            if case .bool(let value) = flag { trigger.forwardsYAMLVariables = value } else { fail(location, "yaml variables should be a boolean value") }
        }
        if let flag = mapping.present("pipeline_variables") {
            if case .bool(let value) = flag { trigger.forwardsPipelineVariables = value } else { fail(location, "pipeline variables should be a boolean value") }
        }
    }

    /// `trigger:include`: what the child pipeline's configuration includes, kept as the YAML `include:` it becomes. At most three
    /// locations (GitLab's `INCLUDE_MAX_SIZE`); each is checked when the child pipeline is read, as any `include:`.
    private mutating func readChildInclude(_ value: YAMLValue?, location: String) -> String? {
        guard let value else { return nil }
        let count: Int
        switch value {
        case .string(let path):
            guard !path.isEmpty else {
                fail(location, "config can't be blank")
                return nil
            }
            count = 1
        case .sequence(let items):
            guard !items.isEmpty else {
                fail(location, "config can't be blank")
                return nil
            }
            guard items.allSatisfy({ if case .string = $0 { true } else if case .mapping = $0 { true } else { false } }) else {
                fail(location, "config should be an array of hashes or strings")
                return nil
            }
            count = items.count
        case .mapping:
            count = 1
        default:
            fail(location, "config should be a hash, a string or an array")
            return nil
        }
        guard count <= 3 else {
            fail(location, "config is too long (maximum is 3 items)")
            return nil
        }
        var document = YAMLMapping()
        document["include"] = value
        return YAMLEmitter.document(document)
    }
}

extension CITrigger {
    /// The trigger with its project path and branch expanded in `scope` (GitLab expands both before looking the project up).
    func expanded(_ scope: [String: String]) -> CITrigger {
        guard case .project(let path, let branch) = target else { return self }
        var copy = self
        copy.target = .project(path: CIVariableExpansion.expand(path, scope), branch: branch.map { CIVariableExpansion.expand($0, scope) })
        return copy
    }
}
