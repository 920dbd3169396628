import LatchkeyCore

extension PipelineCreator {
    /// The pipeline of a branch written through the API (a new branch, a commit, a file), as the caller, as a push of it
    /// would start; no configuration or rules that match nothing are no error, and a failure is logged, never the write's.
    func startForAPIWrite(project: Project, ref: String, user: User) async {
        do {
            _ = try await create(project: project, ref: ref, source: .push, user: user)
        } catch Failure.missingConfiguration {
        } catch Failure.filtered {
        } catch {
            environment.logger.error("pipeline creation for a write through the API failed", metadata: ["project": "\(project.fullPath)", "error.type": "\(type(of: error))"])
        }
    }
}
