/// One job of a pipeline as progression sees it (only the latest attempt of each name).
public struct ProgressionJob: Sendable, Equatable {
    public var name: String
    public var stageIndex: Int
    /// nil: the job waits for every earlier stage; otherwise only for these jobs.
    public var needs: [String]?
    public var when: JobWhen
    public var allowFailure: Bool
    public var status: JobStatus

    /// A job as progression sees it; defaults describe a fresh `on_success` job.
    public init(
        name: String,
        stageIndex: Int,
        needs: [String]? = nil,
        when: JobWhen = .onSuccess,
        allowFailure: Bool = false,
        status: JobStatus = .created
    ) {
        self.name = name
        self.stageIndex = stageIndex
        self.needs = needs
        self.when = when
        self.allowFailure = allowFailure
        self.status = status
    }
}

/// GitLab's rules for which jobs may start and what a pipeline's status is.
///
/// This mirrors GitLab's atomic processing: a `created` job is decided once the composite status of its
/// prerequisites (every job of earlier stages, or only its `needs`) is complete — success, failed, canceled
/// or skipped. A blocking manual job (`allow_failure: false`) keeps that composite at `manual`, so later
/// jobs wait; a non-blocking one counts as ignored. Failed or canceled jobs with `allow_failure` count as
/// successes with warnings.
public enum PipelineProgression {
    /// New statuses for jobs whose status must change now (created -> pending / manual / scheduled / skipped), keyed by index into `jobs`.
    ///
    /// It iterates internally to a fixed point, so one call settles every cascade (a skipped stage skipping the next);
    /// call it again only after some job's status changes (a job finishes, a manual job is played).
    public static func advance(_ jobs: [ProgressionJob]) -> [Int: JobStatus] {
        var working = jobs
        var changes: [Int: JobStatus] = [:]
        var changed = true
        while changed {
            changed = false
            let byName = Dictionary(working.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { _, last in last })
            for index in working.indices where working[index].status == .created {
                let job = working[index]
                let prerequisites: [ProgressionJob]
                if let needs = job.needs {
                    prerequisites = needs.compactMap { byName[$0].map { working[$0] } }
                } else {
                    prerequisites = working.filter { $0.stageIndex < job.stageIndex }
                }
                let isDAG = job.needs != nil
                let composite = CompositeStatus.of(prerequisites, dag: isDAG) ?? .success
                guard [.success, .failed, .canceled, .skipped].contains(composite) else { continue }
                let next = decision(for: job, after: composite, dag: isDAG)
                working[index].status = next
                changes[index] = next
                changed = true
            }
        }
        return changes
    }

    /// The pipeline's status from its jobs' latest attempts (GitLab's `Ci::Status::Composite`); `created` when there are none.
    public static func status(of jobs: [ProgressionJob]) -> PipelineStatus {
        guard let composite = CompositeStatus.of(jobs, dag: false) else { return .created }
        return PipelineStatus(rawValue: composite.rawValue) ?? .failed
    }

    /// GitLab's ProcessBuildService: run when the prerequisites' status is one the job's `when:` runs after, else skip.
    private static func decision(for job: ProgressionJob, after prerequisites: JobStatus, dag: Bool) -> JobStatus {
        let runsAfter: Set<JobStatus>
        switch job.when {
        case .onSuccess, .manual, .delayed: runsAfter = dag ? [.success] : [.success, .skipped]
        case .onFailure: runsAfter = [.failed]
        case .always: runsAfter = [.success, .failed, .skipped]
        case .never: runsAfter = []
        }
        guard runsAfter.contains(prerequisites) else { return .skipped }
        switch job.when {
        case .manual: return .manual
        case .delayed: return .scheduled
        default: return .pending
        }
    }
}

/// GitLab's `Ci::Status::Composite`, over the statuses Latchkey has.
enum CompositeStatus {
    private enum Entry: Hashable {
        case status(JobStatus)
        case successWithWarnings
        case ignored
    }

    static func of(_ jobs: [ProgressionJob], dag: Bool) -> JobStatus? {
        var set: Set<Entry> = []
        for job in jobs {
            if job.allowFailure && (job.status == .failed || job.status == .canceled) {
                set.insert(.successWithWarnings)
            } else if job.allowFailure && job.status == .manual {
                set.insert(.ignored)
            } else {
                set.insert(.status(job.status))
            }
        }
        guard !set.isEmpty else { return nil }

        func only(_ allowed: Entry...) -> Bool { set.isSubset(of: Set(allowed)) }
        func any(_ wanted: JobStatus...) -> Bool { wanted.contains { set.contains(.status($0)) } }

        if dag && (set.contains(.status(.skipped)) || set.contains(.ignored)) { return .skipped }
        if only(.status(.skipped), .ignored) { return .skipped }
        if only(.status(.success), .status(.skipped), .successWithWarnings, .ignored) { return .success }
        if only(.status(.created), .successWithWarnings, .ignored) { return .created }
        if only(.status(.canceled), .status(.success), .status(.skipped), .successWithWarnings, .ignored) { return .canceled }
        if only(.status(.pending), .status(.created), .status(.skipped), .successWithWarnings, .ignored) { return .pending }
        if any(.running, .pending) { return .running }
        if any(.manual) { return .manual }
        if any(.scheduled) { return .scheduled }
        if any(.created) { return .running }
        if any(.canceling) { return .canceling }
        return .failed
    }
}
