import Testing

@testable import LatchkeyCore

@Suite("Pipeline progression follows GitLab's processing rules")
struct PipelineProgressionTests {
    private static func job(
        _ name: String,
        stage: Int,
        _ status: JobStatus = .created,
        when: JobWhen = .onSuccess,
        allowFailure: Bool = false,
        needs: [String]? = nil
    ) -> ProgressionJob {
        ProgressionJob(name: name, stageIndex: stage, needs: needs, when: when, allowFailure: allowFailure, status: status)
    }

    /// What `advance` decides for a later-stage job of each `when`, after an earlier stage ends up like this.
    struct StageCase: Sendable, CustomTestStringConvertible {
        var earlier: [ProgressionJob]
        var onSuccess: JobStatus?
        var onFailure: JobStatus?
        var always: JobStatus?
        var manual: JobStatus?
        var testDescription: String {
            earlier.map { "\($0.status.rawValue)\($0.allowFailure ? "(allowed)" : "")" }.joined(separator: "+")
        }
    }

    static let stageCases: [StageCase] = [
        StageCase(earlier: [job("a", stage: 0, .success)], onSuccess: .pending, onFailure: .skipped, always: .pending, manual: .manual),
        StageCase(earlier: [job("a", stage: 0, .failed)], onSuccess: .skipped, onFailure: .pending, always: .pending, manual: .skipped),
        StageCase(
            earlier: [job("a", stage: 0, .failed, allowFailure: true)],
            onSuccess: .pending,
            onFailure: .skipped,
            always: .pending,
            manual: .manual
        ),
        StageCase(
            earlier: [job("a", stage: 0, .success), job("b", stage: 0, .failed)],
            onSuccess: .skipped,
            onFailure: .pending,
            always: .pending,
            manual: .skipped
        ),
        StageCase(earlier: [job("a", stage: 0, .skipped)], onSuccess: .pending, onFailure: .skipped, always: .pending, manual: .manual),
        // GitLab skips everything after a cancellation, `always` and `on_failure` jobs included.
        StageCase(earlier: [job("a", stage: 0, .canceled)], onSuccess: .skipped, onFailure: .skipped, always: .skipped, manual: .skipped),
        StageCase(
            earlier: [job("a", stage: 0, .canceled, allowFailure: true)],
            onSuccess: .pending,
            onFailure: .skipped,
            always: .pending,
            manual: .manual
        ),
        StageCase(
            earlier: [job("a", stage: 0, .canceled), job("b", stage: 0, .failed)],
            onSuccess: .skipped,
            onFailure: .pending,
            always: .pending,
            manual: .skipped
        ),
        StageCase(
            earlier: [job("a", stage: 0, .manual, when: .manual, allowFailure: true), job("b", stage: 0, .success)],
            onSuccess: .pending,
            onFailure: .skipped,
            always: .pending,
            manual: .manual
        ),
        StageCase(
            earlier: [job("a", stage: 0, .manual, when: .manual, allowFailure: false), job("b", stage: 0, .success)],
            onSuccess: nil,
            onFailure: nil,
            always: nil,
            manual: nil
        ),
        StageCase(earlier: [job("a", stage: 0, .running)], onSuccess: nil, onFailure: nil, always: nil, manual: nil),
        StageCase(earlier: [job("a", stage: 0, .pending), job("b", stage: 0, .failed)], onSuccess: nil, onFailure: nil, always: nil, manual: nil),
        StageCase(earlier: [job("a", stage: 0, .canceling)], onSuccess: nil, onFailure: nil, always: nil, manual: nil),
    ]

    @Test("a later stage is decided from the composite of every earlier job", arguments: stageCases)
    func laterStage(_ example: StageCase) {
        let expectations: [(JobWhen, JobStatus?)] = [
            (.onSuccess, example.onSuccess), (.onFailure, example.onFailure), (.always, example.always), (.manual, example.manual),
            // A delayed job runs when an on_success one would, scheduled first.
            (.delayed, example.onSuccess.map { $0 == .pending ? .scheduled : $0 }),
        ]
        for (when, expected) in expectations {
            let jobs = example.earlier + [Self.job("later", stage: 1, when: when, allowFailure: when == .manual)]
            let changes = PipelineProgression.advance(jobs)
            #expect(changes[jobs.count - 1] == expected, "when: \(when.rawValue)")
            #expect(changes.keys.allSatisfy { $0 == jobs.count - 1 }, "only created jobs change")
        }
    }

    @Test("jobs of the first stage start at once, manual ones wait for a person, on_failure ones are skipped")
    func firstStage() {
        let jobs = [
            Self.job("a", stage: 0), Self.job("b", stage: 0, when: .manual, allowFailure: true),
            Self.job("c", stage: 0, when: .onFailure), Self.job("d", stage: 0, when: .always), Self.job("e", stage: 1),
        ]
        #expect(PipelineProgression.advance(jobs) == [0: .pending, 1: .manual, 2: .skipped, 3: .pending])
    }

    @Test("a scheduled job holds back later stages until it runs, and the pipeline reads scheduled meanwhile")
    func scheduledJob() {
        var jobs = [Self.job("canary", stage: 0, when: .delayed), Self.job("after", stage: 1)]
        #expect(PipelineProgression.advance(jobs) == [0: .scheduled])
        jobs[0].status = .scheduled
        #expect(PipelineProgression.advance(jobs).isEmpty)
        #expect(PipelineProgression.status(of: jobs) == .scheduled)
        jobs.append(Self.job("other", stage: 0, .manual, when: .manual, allowFailure: false))
        #expect(PipelineProgression.status(of: jobs) == .manual, "manual outranks scheduled, as GitLab's composite")
        jobs[0].status = .pending
        #expect(PipelineProgression.status(of: jobs) == .running)
    }

    @Test("one call settles a cascade of skips through several stages")
    func cascade() {
        let jobs = [
            Self.job("build", stage: 0, .failed),
            Self.job("test", stage: 1),
            Self.job("deploy", stage: 2),
            Self.job("notify", stage: 2, when: .onFailure),
            Self.job("cleanup", stage: 3, when: .always),
        ]
        #expect(PipelineProgression.advance(jobs) == [1: .skipped, 2: .skipped, 3: .pending])
    }

    @Test("a blocking manual job holds back every later stage")
    func blockingManual() {
        let jobs = [
            Self.job("approve", stage: 0, when: .manual, allowFailure: false),
            Self.job("deploy", stage: 1),
        ]
        let first = PipelineProgression.advance(jobs)
        #expect(first == [0: .manual])
        var after = jobs
        after[0].status = .manual
        #expect(PipelineProgression.advance(after).isEmpty)
        #expect(PipelineProgression.status(of: after) == .manual)
        after[0].status = .success
        #expect(PipelineProgression.advance(after) == [1: .pending])
    }

    /// What a job with `needs: [a]` becomes when `a` is in a given state.
    struct NeedsCase: Sendable, CustomTestStringConvertible {
        var needed: ProgressionJob
        var when: JobWhen
        var expected: JobStatus?
        var testDescription: String {
            "\(when.rawValue) after \(needed.status.rawValue)\(needed.allowFailure ? "(allowed)" : "")"
        }
    }

    static let needsCases: [NeedsCase] = [
        NeedsCase(needed: job("a", stage: 0, .success), when: .onSuccess, expected: .pending),
        NeedsCase(needed: job("a", stage: 0, .running), when: .onSuccess, expected: nil),
        NeedsCase(needed: job("a", stage: 0, .failed), when: .onSuccess, expected: .skipped),
        NeedsCase(needed: job("a", stage: 0, .failed), when: .onFailure, expected: .pending),
        NeedsCase(needed: job("a", stage: 0, .failed, allowFailure: true), when: .onSuccess, expected: .pending),
        // A DAG job whose need did not run is skipped, unlike a stage job after a skipped stage.
        NeedsCase(needed: job("a", stage: 0, .skipped), when: .onSuccess, expected: .skipped),
        NeedsCase(needed: job("a", stage: 0, .skipped), when: .always, expected: .pending),
        NeedsCase(needed: job("a", stage: 0, .manual, when: .manual, allowFailure: true), when: .onSuccess, expected: .skipped),
        NeedsCase(needed: job("a", stage: 0, .manual, when: .manual, allowFailure: false), when: .onSuccess, expected: nil),
        NeedsCase(needed: job("a", stage: 0, .success), when: .manual, expected: .manual),
        NeedsCase(needed: job("a", stage: 0, .canceled), when: .always, expected: .skipped),
    ]

    @Test("a job with needs looks only at the jobs it needs", arguments: needsCases)
    func needs(_ example: NeedsCase) {
        let jobs = [
            example.needed,
            Self.job("slow", stage: 0, .running),
            Self.job("b", stage: 1, when: example.when, needs: ["a"]),
        ]
        #expect(PipelineProgression.advance(jobs)[2] == example.expected)
    }

    @Test("needs: [] starts at once and needs naming absent jobs are ignored")
    func emptyAndAbsentNeeds() {
        let jobs = [
            Self.job("slow", stage: 0, .running),
            Self.job("eager", stage: 2, needs: []),
            Self.job("optional", stage: 2, needs: ["not-in-pipeline"]),
            Self.job("waiting", stage: 2),
        ]
        #expect(PipelineProgression.advance(jobs) == [1: .pending, 2: .pending])
    }

    @Test("a job may need a job of its own stage")
    func needsWithinStage() {
        let jobs = [Self.job("a", stage: 0, .success), Self.job("b", stage: 0, needs: ["a"])]
        #expect(PipelineProgression.advance(jobs) == [1: .pending])
    }

    @Test("advancing again after applying the changes changes nothing")
    func idempotent() {
        var jobs = [
            Self.job("a", stage: 0, .failed), Self.job("b", stage: 1), Self.job("c", stage: 2, when: .always),
            Self.job("d", stage: 2, when: .manual, allowFailure: true),
        ]
        for (index, status) in PipelineProgression.advance(jobs) { jobs[index].status = status }
        #expect(PipelineProgression.advance(jobs).isEmpty)
    }

    struct StatusCase: Sendable, CustomTestStringConvertible {
        var jobs: [ProgressionJob]
        var expected: PipelineStatus
        var testDescription: String {
            "\(jobs.map { "\($0.status.rawValue)\($0.allowFailure ? "(allowed)" : "")" }.joined(separator: "+")) is \(expected.rawValue)"
        }
    }

    static let statusCases: [StatusCase] = [
        StatusCase(jobs: [], expected: .created),
        StatusCase(jobs: [job("a", stage: 0), job("b", stage: 1)], expected: .created),
        StatusCase(jobs: [job("a", stage: 0, .pending), job("b", stage: 1)], expected: .pending),
        StatusCase(jobs: [job("a", stage: 0, .pending), job("b", stage: 0, .success)], expected: .running),
        StatusCase(jobs: [job("a", stage: 0, .running), job("b", stage: 1)], expected: .running),
        StatusCase(jobs: [job("a", stage: 0, .success), job("b", stage: 1)], expected: .running),
        StatusCase(jobs: [job("a", stage: 0, .success), job("b", stage: 1, .skipped)], expected: .success),
        StatusCase(jobs: [job("a", stage: 0, .skipped), job("b", stage: 1, .skipped)], expected: .skipped),
        StatusCase(jobs: [job("a", stage: 0, .success), job("b", stage: 0, .failed, allowFailure: true)], expected: .success),
        StatusCase(jobs: [job("a", stage: 0, .success), job("b", stage: 0, .failed)], expected: .failed),
        StatusCase(jobs: [job("a", stage: 0, .failed), job("b", stage: 1, .skipped)], expected: .failed),
        StatusCase(jobs: [job("a", stage: 0, .failed), job("b", stage: 1)], expected: .running),
        StatusCase(jobs: [job("a", stage: 0, .success), job("b", stage: 0, .canceled)], expected: .canceled),
        StatusCase(jobs: [job("a", stage: 0, .failed), job("b", stage: 0, .canceled)], expected: .failed),
        StatusCase(jobs: [job("a", stage: 0, .canceled, allowFailure: true), job("b", stage: 0, .success)], expected: .success),
        StatusCase(jobs: [job("a", stage: 0, .success), job("b", stage: 1, .manual, when: .manual)], expected: .manual),
        StatusCase(jobs: [job("a", stage: 0, .failed), job("b", stage: 1, .manual, when: .manual)], expected: .manual),
        StatusCase(jobs: [job("a", stage: 0, .success), job("b", stage: 1, .manual, when: .manual, allowFailure: true)], expected: .success),
        StatusCase(jobs: [job("a", stage: 0, .manual, when: .manual, allowFailure: true)], expected: .skipped),
        StatusCase(jobs: [job("a", stage: 0, .canceling), job("b", stage: 0, .success)], expected: .canceling),
        StatusCase(jobs: [job("a", stage: 0, .canceling), job("b", stage: 0, .running)], expected: .running),
        StatusCase(jobs: [job("a", stage: 0, .canceling), job("b", stage: 1)], expected: .running),
    ]

    @Test("the pipeline status is GitLab's composite of its jobs", arguments: statusCases)
    func pipelineStatus(_ example: StatusCase) {
        #expect(PipelineProgression.status(of: example.jobs) == example.expected)
    }

    @Test("a parsed pipeline runs to success when every job succeeds")
    func endToEnd() throws {
        let definition = try CIConfigParser.parse(
            """
            stages: [build, test, deploy]
            compile: {stage: build, script: make}
            unit: {stage: test, script: make test, needs: [compile]}
            lint: {stage: test, script: make lint}
            release: {stage: deploy, script: make release, when: manual}
            report: {stage: .post, script: report, when: always}
            """
        )
        var jobs = definition.jobs.map { job in
            ProgressionJob(
                name: job.name,
                stageIndex: definition.stageIndex(of: job.stage) ?? 0,
                needs: job.needs,
                when: job.when,
                allowFailure: job.allowFailure,
                status: .created
            )
        }
        var finished: [String] = []
        for _ in 0..<10 {
            for (index, status) in PipelineProgression.advance(jobs) { jobs[index].status = status }
            // The runner finishes every pending job.
            for index in jobs.indices where jobs[index].status == .pending {
                jobs[index].status = .success
                finished.append(jobs[index].name)
            }
        }
        #expect(finished == ["compile", "unit", "lint", "report"])
        #expect(jobs.first { $0.name == "release" }?.status == .manual)
        #expect(PipelineProgression.status(of: jobs) == .success)
    }

    @Test("job status helpers match GitLab's groups")
    func statusGroups() {
        #expect(JobStatus.allCases.filter(\.isFinished) == [.success, .failed, .canceled, .skipped])
        #expect(JobStatus.allCases.filter(\.isActive) == [.pending, .running, .canceling])
    }
}
