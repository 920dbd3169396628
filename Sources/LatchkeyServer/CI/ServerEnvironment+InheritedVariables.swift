import LatchkeyCore
import LatchkeyStore

extension ServerEnvironment {
    /// The CI/CD variables a job of `project` inherits: the instance's, those of every group above the project (a personal
    /// project has none) and the project's own. Two reads: the group chain, then the three levels together.
    func inheritedVariables(projectID: Int64) async throws -> InheritedVariables {
        guard let project = try await store.projects.find(id: projectID) else { return InheritedVariables() }
        return try await inheritedVariables(for: project)
    }

    func inheritedVariables(for project: Project) async throws -> InheritedVariables {
        let groupIDs: [Int64] =
            project.namespace.kind == .group ? try await store.namespaces.groupChain(fullPath: project.namespace.fullPath).map(\.id) : []
        return try await store.variables.inherited(projectID: project.id, groupIDs: groupIDs)
    }
}
