/// Something an actor may want to do with one pipeline schedule.
public enum ScheduleAbility: String, Sendable, CaseIterable {
    case read = "read_pipeline_schedule"
    /// Change it; only its owner (or an administrator), since it runs as them.
    case update = "update_pipeline_schedule"
    /// Delete it: its owner, or anyone who administers the project's schedules.
    case delete = "delete_pipeline_schedule"
    case takeOwnership = "take_ownership_pipeline_schedule"
    /// Run it now, as the player.
    case play = "play_pipeline_schedule"
}

/// What the policy needs to know about a schedule for one actor.
public struct ScheduleAccessFacts: Sendable {
    public var project: ProjectAccessFacts
    public var ownerID: Int64
    public var ref: RefProtection

    public init(project: ProjectAccessFacts, ownerID: Int64, ref: RefProtection) {
        self.project = project
        self.ownerID = ownerID
        self.ref = ref
    }
}

extension AccessPolicy {
    /// GitLab's `Ci::PipelineSchedulePolicy`: play needs create_pipeline and a ref the player may run pipelines on (a played
    /// schedule runs as the player); update needs ownership (or an administrator), delete ownership or admin_pipeline_schedule.
    public static func decide(_ actor: Actor, _ ability: ScheduleAbility, on facts: ScheduleAccessFacts) -> Decision {
        if case .job = actor { return .denied(.notAJobTokenAbility(.adminPipelineSchedule)) }
        let isOwner = actor.signedInUser.map { $0.id == facts.ownerID } ?? false
        switch ability {
        case .read:
            return decide(actor, .readPipelineSchedule, on: facts.project)
        case .update:
            let base = decide(actor, .createPipelineSchedule, on: facts.project)
            guard base.isAllowed else { return base }
            return isOwner || actor.user?.isAdmin == true ? .allowed : .denied(notOwner(facts.project.memberLevel))
        case .delete:
            let base = decide(actor, .readPipelineSchedule, on: facts.project)
            guard base.isAllowed, !isOwner else { return base }
            return decide(actor, .adminPipelineSchedule, on: facts.project)
        case .takeOwnership:
            return decide(actor, .adminPipelineSchedule, on: facts.project)
        case .play:
            return decide(actor, .createPipeline, on: facts.project, ref: facts.ref)
        }
    }

    /// The refusal when only the owner (or an administrator) may act: like a role nobody but the owner holds, as for tokens.
    static func notOwner(_ level: AccessLevel?) -> Denial { .insufficientRole(required: .owner, actual: level) }

    /// Whether a schedule's cron run may start as its owner (a user, never a credential with scopes).
    public static func mayRunScheduleAsOwner(_ owner: User, on facts: ScheduleAccessFacts) -> Decision {
        decide(.user(UserActor(user: owner, scopes: nil)), .createPipeline, on: facts.project, ref: facts.ref)
    }
}
