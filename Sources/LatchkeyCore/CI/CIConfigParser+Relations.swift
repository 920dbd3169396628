extension CIConfigParser {
    /// GitLab's logical validations (YamlProcessor), run once every entry is valid; they stop at the first error.
    static func validateRelations(_ config: CIReadConfig) throws(CIConfigError) {
        let stageOfJob = Dictionary(config.jobs.map { ($0.name, $0.stage) }, uniquingKeysWith: { first, _ in first })
        func stageIndex(_ job: String) -> Int? { stageOfJob[job].flatMap(config.stages.firstIndex(of:)) }

        let environmentOfJob = Dictionary(config.jobs.map { ($0.name, $0.environment) }, uniquingKeysWith: { first, _ in first })
        for job in config.jobs {
            // YamlProcessor's `validate_on_stop_job!`.
            if let environment = job.environment, let onStop = environment.onStop {
                guard let stopJob = environmentOfJob[onStop] else { throw CIConfigError("\(job.name) job: on_stop job \(onStop) is not defined") }
                guard let stopEnvironment = stopJob else {
                    throw CIConfigError("\(job.name) job: on_stop job \(onStop) does not have environment defined")
                }
                guard stopEnvironment.name.utf8.elementsEqual(environment.name.utf8) else {
                    throw CIConfigError("\(job.name) job: on_stop job \(onStop) have different environment name")
                }
                guard stopEnvironment.action == .stop else {
                    throw CIConfigError("\(job.name) job: on_stop job \(onStop) needs to have action stop defined")
                }
            }
            guard config.stages.contains(job.stage) else {
                throw CIConfigError(
                    "\(job.name) job: chosen stage \(job.stage) does not exist; available stages are "
                        + config.stages.joined(separator: ", ")
                )
            }
            let ownIndex = stageIndex(job.name) ?? 0
            func check(_ other: String, kind: String) throws(CIConfigError) {
                guard stageOfJob[other] != nil else {
                    throw CIConfigError("\(job.name) job: undefined \(kind): \(other)")
                }
                guard let otherIndex = stageIndex(other), otherIndex <= ownIndex else {
                    throw CIConfigError("\(job.name) job: \(kind) \(other) is not defined in current or prior stages")
                }
            }
            for dependency in job.dependencies ?? [] {
                try check(dependency, kind: "dependency")
            }
            if let needs = job.needs {
                for need in needs where !(need.optional && stageOfJob[need.name] == nil) {
                    try check(need.name, kind: "need")
                }
                var seen: Set<String> = []
                var reported: Set<String> = []
                var duplicated: [String] = []
                for need in needs where !seen.insert(need.name).inserted && reported.insert(need.name).inserted {
                    duplicated.append(need.name)
                }
                if !duplicated.isEmpty {
                    throw CIConfigError("\(job.name) has the following needs duplicated: \(duplicated.joined(separator: ", ")).")
                }
            }
        }
        if hasNeedsCycle(config.jobs) {
            throw CIConfigError("The pipeline has circular dependencies")
        }
    }

    private static func hasNeedsCycle(_ jobs: [CIReadJob]) -> Bool {
        let edges = Dictionary(jobs.map { ($0.name, $0.needs?.map(\.name) ?? []) }, uniquingKeysWith: { first, _ in first })
        // 0 unvisited, 1 on the current path, 2 done; iterative so that long chains cannot exhaust the stack.
        var state: [String: Int] = [:]
        for start in edges.keys where state[start] == nil {
            var stack: [(name: String, next: Int)] = [(start, 0)]
            state[start] = 1
            while let top = stack.last {
                let children = edges[top.name] ?? []
                if top.next < children.count {
                    stack[stack.count - 1].next += 1
                    let child = children[top.next]
                    switch state[child] {
                    case 1?: return true
                    case nil where edges[child] != nil:
                        state[child] = 1
                        stack.append((child, 0))
                    default: break
                    }
                } else {
                    state[top.name] = 2
                    stack.removeLast()
                }
            }
        }
        return false
    }
}
