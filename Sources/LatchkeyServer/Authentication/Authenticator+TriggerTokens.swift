import LatchkeyCore
import LatchkeyStore

extension Authenticator {
    /// The trigger a pipeline trigger token names and the user it runs as, when the token belongs to `projectID` and its owner
    /// exists and is not blocked; nil for any other token, so a refusal never tells which part was wrong.
    func trigger(token: String, projectID: Int64) async throws -> (trigger: PipelineTrigger, owner: User)? {
        guard token.count < 256, let trigger = try await environment.store.pipelineTriggers.find(tokenDigest: environment.digester.digest(token)),
            trigger.projectID == projectID, let ownerID = trigger.ownerID, let owner = try await environment.store.users.find(id: ownerID), !owner.isBlocked
        else { return nil }
        return (trigger, owner)
    }
}
