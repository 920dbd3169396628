import Foundation
import LatchkeyCore
import LatchkeyStore
import ServiceLifecycle

/// Starts the downstream pipelines of pending bridges (`trigger:` jobs) as the bridge's user, GitLab's
/// `CreateDownstreamPipelineService`: checked through the `Authorizer` and GitLab's limits, safe with several instances (each
/// bridge is taken by one status-checked update).
struct DownstreamPipelineStarter: Service {
    let environment: ServerEnvironment
    let creator: PipelineCreator
    /// The longest a pending bridge waits when no wake-up reaches this instance (another instance queued it).
    var interval: Duration = .seconds(1)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await startPending()
                await creator.queue.wait(timeout: interval)
            }
        }
    }

    /// Starts the downstream pipeline of every pending bridge, the projects taking turns; returns how many bridges it took
    /// (those refused together with one it took included).
    @discardableResult
    func startPending() async -> Int {
        var started = 0
        var lastProject: Int64?
        while !Task.isCancelled {
            let bridge: Job?
            do {
                bridge = try await environment.store.jobs.claimPendingBridge(after: lastProject)
            } catch {
                environment.logger.error("pending bridges could not be read", metadata: ["error.type": "\(type(of: error))"])
                break
            }
            guard let bridge else { break }
            lastProject = bridge.projectID
            started += 1 + (await start(bridge))
        }
        return started
    }

    /// The outcome of one bridge.
    enum Outcome: Equatable {
        case created(Pipeline)
        case refused(BridgeFailure)
    }

    /// Starts one claimed bridge's downstream pipeline; returns how many other queued bridges were refused along with it.
    @discardableResult
    func start(_ bridge: Job) async -> Int {
        let jobs = environment.store.jobs
        var alongside = 0
        do {
            switch try await trigger(bridge) {
            case .refused(let failure):
                environment.logger.info(
                    "downstream pipeline refused", metadata: ["job": "\(bridge.id)", "reason": "\(failure.rawValue)"])
                try await jobs.finishBridge(id: bridge.id, status: .failed, failureReason: failure.rawValue)
                alongside = try await refuseQueuedAlike(bridge, failure)
            case .created(let downstream):
                if downstream.yamlErrors != nil {
                    try await jobs.finishBridge(id: bridge.id, status: .failed, failureReason: BridgeFailure.creationFailed.rawValue)
                } else if bridge.definition.trigger?.dependsOnDownstream == true {
                    // The downstream pipeline may have ended before this bridge was told it exists.
                    try await environment.store.pipelines.mirrorToBridge(downstream.id)
                } else {
                    try await jobs.finishBridge(id: bridge.id, status: .success)
                }
                // Canceled while the pipeline was being made (the parent's cancel cascade may have looked before it existed).
                if try await jobs.find(id: bridge.id)?.status == .canceled { _ = try await jobs.cancel(pipelineID: downstream.id) }
            }
        } catch {
            environment.logger.error("downstream pipeline failed", metadata: ["job": "\(bridge.id)", "error.type": "\(type(of: error))"])
            _ = try? await jobs.finishBridge(id: bridge.id, status: .failed, failureReason: BridgeFailure.creationFailed.rawValue)
        }
        await creator.queue.notify()
        return alongside
    }

    /// A refusal that the tree's shape decides holds for other queued bridges too: every child bridge of a pipeline too deep,
    /// every bridge of a tree too large. They are failed in one pass, so a file that fans out (`parallel: matrix` of bridges
    /// including themselves) costs one claim per pipeline, not one per bridge, and cannot hold the queue for minutes. In a
    /// full tree a multi-project bridge is refused for the tree's size without its target being looked up.
    private func refuseQueuedAlike(_ bridge: Job, _ failure: BridgeFailure) async throws -> Int {
        let store = environment.store
        var reasons: [Int64: String] = [:]
        switch failure {
        case .maximumDepth:
            for sibling in try await store.jobs.pendingBridges(pipelineIDs: [bridge.pipelineID]) where sibling.definition.trigger?.isChild == true {
                reasons[sibling.id] = failure.rawValue
            }
        case .hierarchyTooLarge:
            guard let pipeline = try await store.pipelines.find(id: bridge.pipelineID),
                let root = try await store.pipelines.selfAndUpstreams(of: pipeline).last
            else { return 0 }
            let maximum = environment.settings.pipelineLimits.maximumHierarchySize
            let nodes = try await store.pipelines.tree(root: root, limit: maximum)
            let byID = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            func chain(from id: Int64) -> [PipelineHierarchy.Link] {
                var links: [PipelineHierarchy.Link] = []
                var next: Int64? = id
                while let current = next, let node = byID[current], links.count <= nodes.count {
                    links.append(PipelineHierarchy.Link(projectID: node.projectID, ref: node.ref, source: node.source))
                    next = node.parentID
                }
                return links
            }
            for queued in try await store.jobs.pendingBridges(pipelineIDs: nodes.map(\.id)) {
                let isChild = queued.definition.trigger?.isChild ?? false
                let refusal = PipelineHierarchy.structuralRefusal(
                    isChild: isChild, sameProject: isChild, chain: chain(from: queued.pipelineID), hierarchySize: maximum,
                    maximumSize: maximum)
                reasons[queued.id] = (refusal ?? failure).rawValue
            }
        default:
            return 0
        }
        let refused = try await store.jobs.failPendingBridges(reasons)
        if refused > 0 {
            environment.logger.info("queued bridges refused alike", metadata: ["job": "\(bridge.id)", "reason": "\(failure.rawValue)", "count": "\(refused)"])
        }
        return refused
    }

    /// Checks and makes the downstream pipeline of `bridge`, in GitLab's order of checks.
    func trigger(_ bridge: Job) async throws -> Outcome {
        let store = environment.store
        guard let trigger = bridge.definition.trigger, let pipeline = try await store.pipelines.find(id: bridge.pipelineID),
            let project = try await store.projects.find(id: bridge.projectID)
        else { return .refused(.invalidTrigger) }
        guard let userID = bridge.userID, let user = try await store.users.find(id: userID) else { return .refused(.insufficientPermissions) }
        let actor = Actor.user(UserActor(user: user, scopes: nil))
        let authorizer = environment.authorizer

        let downstream: Project
        switch trigger.target {
        case .child: downstream = project
        case .project(let path, _):
            guard let found = try await store.projects.find(fullPath: path),
                authorizer.allows(actor, .readProject, try await authorizer.facts(for: found, actor: actor))
            else { return .refused(.projectNotFound) }
            downstream = found
        }

        let chain = try await store.pipelines.selfAndUpstreams(of: pipeline)
        let links = chain.map { PipelineHierarchy.Link(projectID: $0.projectID, ref: $0.ref, source: $0.source) }
        // The cheap checks first (no tree size yet); the tree is walked only when they pass.
        let maximum = environment.settings.pipelineLimits.maximumHierarchySize
        func refusal(size: Int) -> BridgeFailure? {
            PipelineHierarchy.structuralRefusal(
                isChild: trigger.isChild, sameProject: downstream.id == project.id, chain: links, hierarchySize: size, maximumSize: maximum)
        }
        if let refused = refusal(size: 0) { return .refused(refused) }
        if let refused = refusal(size: try await store.pipelines.hierarchySize(root: chain.last ?? pipeline, limit: maximum)) { return .refused(refused) }

        let targetRef: String =
            switch trigger.target {
            case .child: pipeline.ref
            case .project(_, let branch): branch.flatMap { $0.isEmpty ? nil : $0 } ?? downstream.defaultBranch
            }
        // GitLab's `can_create_downstream_pipeline?`: update this pipeline, and create one on the downstream ref.
        do {
            try await authorizer.authorize(actor, .updatePipeline, try await authorizer.facts(for: project, actor: actor), ref: pipeline.ref, isTag: pipeline.isTag)
        } catch {
            return .refused(.insufficientPermissions)
        }
        if trigger.isChild {
            guard try await authorizer.mayCreatePipeline(as: user, on: project, ref: pipeline.ref, isTag: pipeline.isTag).isAllowed else {
                return .refused(.insufficientPermissions)
            }
        } else {
            guard try await authorizer.mayCreatePipeline(as: user, on: downstream, ref: targetRef).isAllowed else { return .refused(.insufficientPermissions) }
        }
        if PipelineHierarchy.isLoop(isChild: trigger.isChild, chain: links) { return .refused(.loop) }

        let context = try await creator.context(
            project: project, ref: pipeline.ref, sha: pipeline.sha, isTag: pipeline.isTag, source: pipeline.source, variables: [],
            beforeSHA: pipeline.beforeSHA, projectVariables: false)
        // What GitLab's bridge sees of itself and its pipeline, besides what the pipeline was read with.
        var predefined = context.predefined
        predefined.merge([
            "CI_PIPELINE_ID": String(pipeline.id), "CI_PIPELINE_IID": String(pipeline.iid), "CI_PIPELINE_SOURCE": pipeline.source.rawValue,
            "CI_PIPELINE_URL": "\(environment.settings.baseURL)/\(project.fullPath)/-/pipelines/\(pipeline.id)", "CI_JOB_NAME": bridge.name,
            "CI_JOB_STAGE": bridge.stage,
        ]) { _, new in new }
        let variables = trigger.downstreamVariables(yaml: bridge.definition.variables, pipeline: pipeline.variables, predefined: predefined)
        do {
            switch trigger.target {
            case .child(let configuration):
                return .created(
                    try await creator.createChild(of: pipeline, bridge: bridge, configuration: configuration, project: project, user: user, variables: variables))
            case .project:
                return .created(
                    try await creator.create(
                        project: downstream, ref: targetRef, source: .pipeline, user: user, variables: variables, upstreamJobID: bridge.id))
            }
        } catch let failure as PipelineCreator.Failure {
            // No pipeline was kept (unknown ref, no file, nothing left by rules): GitLab's bridge fails the same way.
            environment.logger.info("downstream pipeline not created", metadata: ["job": "\(bridge.id)", "reason": "\(failure)"])
            return .refused(.creationFailed)
        }
    }
}

extension DownstreamPipelineStarter: CustomStringConvertible {
    public var description: String { "DownstreamPipelineStarter" }
}
