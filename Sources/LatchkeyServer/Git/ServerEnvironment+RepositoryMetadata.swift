import Foundation
import LatchkeyCore
import LatchkeyStore

extension ServerEnvironment {
    /// Asks the repository whether it has branches and where the default branch points, and records it on the project.
    ///
    /// Called where refs change (a push lands, a project is created or its default branch changes), so API reads take the
    /// answer from the project's row and never start a `git` process per project.
    @discardableResult
    func recordRepositoryMetadata(_ project: Project) async -> Project {
        var project = project
        let heads = (try? await repositories.branches(projectID: project.id)) ?? []
        project.repositoryEmpty = heads.isEmpty
        project.repositoryHeadSHA = heads.first { $0.name == project.defaultBranch }?.sha
        do {
            try await store.projects.recordRepository(id: project.id, empty: heads.isEmpty, headSHA: project.repositoryHeadSHA)
        } catch {
            logger.error("cannot record repository metadata", metadata: ["project": "\(project.id)", "error.type": "\(type(of: error))"])
        }
        return project
    }

    /// Whether the project's repository has no branches: the recorded answer, or (once, for a project from before it was
    /// recorded) the repository's, which is then recorded.
    func repositoryIsEmpty(_ project: Project) async -> Bool {
        if let empty = project.repositoryEmpty { return empty }
        return await recordRepositoryMetadata(project).repositoryEmpty ?? true
    }
}
