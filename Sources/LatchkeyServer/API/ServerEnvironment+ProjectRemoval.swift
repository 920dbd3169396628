import Foundation
import LatchkeyCore
import LatchkeyStore

extension ServerEnvironment {
    /// Where generic package files live (the same directory `GenericPackagesController` writes to).
    var packages: PackageStore { PackageStore(root: settings.dataDirectory.appendingPathComponent("packages", isDirectory: true)) }

    /// Deletes the projects' rows and then every file they named: job traces, artifact archives, package files and the repository.
    /// Nothing of a deleted project may be left for whoever comes next (ids are never reused either, but files must not outlive rows).
    func removeProjects(_ projects: [Project]) async throws {
        let files = try await store.projects.deleteReturningFiles(ids: projects.map(\.id))
        // The projects' access tokens die with them: a bot outliving its project would be a live credential nobody can see.
        for project in projects { try await store.resourceAccessTokens.retireBots(.project(project.id)) }
        for jobID in files.jobIDs { traces.remove(jobID: jobID) }
        for path in files.artifactPaths { artifacts.remove(path) }
        let packages = packages
        for path in files.packagePaths { packages.remove(path) }
        for project in projects {
            do {
                try repositories.delete(projectID: project.id)
            } catch {
                logger.error("a deleted project's repository could not be removed", metadata: ["project": "\(project.id)", "error.type": "\(type(of: error))"])
            }
        }
    }
}
