extension AccessPolicy {
    /// Whether the actor may kill the live token of job `jobID` of the project in `facts` (and so cancel the job):
    /// the job itself with its own token, a Maintainer of the job's project, or an administrator.
    public static func mayRevokeJobToken(_ actor: Actor, jobID: Int64, on facts: ProjectAccessFacts) -> Decision {
        switch actor {
        case .anonymous:
            return .denied(.unauthenticated)
        case .job(let job):
            // A token may always end itself; it may not end another job's, whatever its user could do.
            return job.job.id == jobID ? .allowed : .denied(.notAJobTokenAbility(.updateJob))
        case .user:
            return decide(actor, .adminProject, on: facts)
        }
    }
}
