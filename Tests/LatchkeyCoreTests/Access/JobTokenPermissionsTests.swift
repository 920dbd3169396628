import Foundation
import LatchkeyCore
import Testing

/// The permission set a job's `permissions:` and the ceilings are made of: its text form, intersection, clamping, and the one
/// exemption (the job's own dependencies' artifacts).
@Suite("Job token permission sets")
struct JobTokenPermissionSetTests {
    @Test("the text form reads what the README documents and refuses the rest")
    func textForm() throws {
        #expect(try JobTokenPermissions.parse(text: "read-all").get() == .readOnly)
        #expect(try JobTokenPermissions.parse(text: "write-all").get() == .all)
        #expect(try JobTokenPermissions.parse(text: "none").get() == .nothing)
        let mixed = try JobTokenPermissions.parse(text: "repository: read, packages: write").get()
        #expect(mixed[.repository] == .read && mixed[.packages] == .write && mixed[.releases] == JobTokenAccess.none)
        #expect(try JobTokenPermissions.parse(text: mixed.description).get() == mixed)
        #expect(JobTokenPermissions.all[.jobs] == .read, "jobs have no write level")
        #expect(throws: JobTokenPermissionsError.unknownResource("deploy")) { try JobTokenPermissions.parse(text: "deploy: write").get() }
        #expect(throws: JobTokenPermissionsError.levelNotAvailable(resource: .jobs, level: .write)) { try JobTokenPermissions.parse(text: "jobs: write").get() }
        #expect(throws: JobTokenPermissionsError.unknownLevel(resource: "packages", level: "admin")) { try JobTokenPermissions.parse(text: "packages: admin").get() }
        #expect(throws: JobTokenPermissionsError.unknownLevel(resource: "packages", level: "")) { try JobTokenPermissions.parse(text: "packages").get() }
    }

    @Test("a ceiling lowers what was asked, never raises it, and says which ceiling lowered what")
    func clamping() throws {
        let facts = JobTokenPermissionFacts(
            declared: try JobTokenPermissions.parse(text: "packages: write, repository: read").get(), projectCeiling: .readOnly,
            instanceCeiling: try JobTokenPermissions.parse(text: "packages: read, releases: write").get())
        #expect(facts.effective.description == "packages: read")
        #expect(facts.clamped.map { "\($0.asked)>\($0.granted.rawValue) by \($0.by)" } == ["repository: read>none by instance", "packages: write>read by project"])
        #expect(facts.refusal(of: JobTokenPermission(.releases, .read)) == .job)
        #expect(facts.refusal(of: JobTokenPermission(.repository, .read)) == .instance)
        #expect(facts.refusal(of: JobTokenPermission(.packages, .write)) == .project)
        #expect(facts.refusal(of: JobTokenPermission(.packages, .read)) == nil)
        #expect(!JobTokenPermissionFacts(declared: nil).isRestricted)
        #expect(JobTokenPermissionFacts(declared: nil, projectCeiling: .readOnly).effective == .readOnly)
    }

    static let epoch = Date(timeIntervalSince1970: 0)

    static func job(_ id: Int64, pipeline: Int64, name: String, stageIndex: Int, dependencies: [String]? = nil, permissions: JobTokenPermissions? = nil) -> Job {
        var definition = JobDefinition(name: name, script: ["true"], dependencies: dependencies)
        definition.permissions = permissions
        return Job(
            id: id, pipelineID: pipeline, projectID: 1, name: name, stage: "s\(stageIndex)", stageIndex: stageIndex, status: .running, definition: definition,
            userID: 7, retried: false, runnerID: 1, failureReason: nil, createdAt: epoch, queuedAt: epoch, startedAt: epoch, finishedAt: nil, updatedAt: epoch)
    }

    @Test("the runner downloads the job's own dependencies' artifacts whatever jobs: says, and nothing else")
    func dependencyArtifacts() {
        let namespace = Namespace(id: 1, kind: .user, name: "root", path: "root", fullPath: "root", groupID: nil, ownerID: 7)
        let project = Project(
            id: 1, name: "app", path: "app", namespace: namespace, visibility: .private, description: "", defaultBranch: "main", creatorID: 7, createdAt: Self.epoch,
            lastActivityAt: Self.epoch)
        let user = User(id: 7, username: "dev", name: "Dev", email: "dev@example.com", isAdmin: false, isBlocked: false, createdAt: Self.epoch)
        let running = Self.job(10, pipeline: 5, name: "deploy", stageIndex: 2, permissions: .nothing)
        let actor = JobActor(job: running, project: project, user: user)
        let facts = ProjectAccessFacts(project: project, memberLevel: .developer, jobTokenPermissions: JobTokenPermissionFacts(declared: .nothing))
        #expect(AccessPolicy.decide(actor, dependencyArtifactsOf: Self.job(8, pipeline: 5, name: "build", stageIndex: 0), on: facts) == .allowed)
        let refused = Decision.denied(.jobTokenPermissionMissing(JobTokenPermission(.jobs, .read), limitedBy: .job))
        #expect(AccessPolicy.decide(actor, dependencyArtifactsOf: Self.job(9, pipeline: 5, name: "late", stageIndex: 3), on: facts) == refused)
        #expect(AccessPolicy.decide(actor, dependencyArtifactsOf: Self.job(3, pipeline: 4, name: "build", stageIndex: 0), on: facts) == refused)
        let picky = JobActor(job: Self.job(10, pipeline: 5, name: "deploy", stageIndex: 2, dependencies: ["lint"], permissions: .nothing), project: project, user: user)
        #expect(AccessPolicy.decide(picky, dependencyArtifactsOf: Self.job(8, pipeline: 5, name: "build", stageIndex: 0), on: facts) == refused)
        #expect(AccessPolicy.decide(picky, dependencyArtifactsOf: Self.job(7, pipeline: 5, name: "lint", stageIndex: 0), on: facts) == .allowed)
    }
}
