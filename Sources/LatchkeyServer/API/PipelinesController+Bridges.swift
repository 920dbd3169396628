import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

extension PipelinesController {
    /// `GET /projects/:id/pipelines/:pipeline_id/bridges`: the pipeline's trigger jobs with the pipelines they started (`scope`
    /// filters by status). A downstream pipeline in a project the caller may not read shows as null, as if not started.
    @Sendable func bridges(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readJob, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        guard let id = context.parameters.get("pipeline_id", as: Int64.self), let pipeline = try await environment.store.pipelines.find(id: id),
            pipeline.projectID == facts.project.id
        else { throw APIError.notFound("Pipeline") }
        let statuses = try (try parameters.stringList("scope") ?? []).map {
            guard let status = JobStatus(rawValue: String($0)) else { throw APIError(.badRequest, error: "scope does not have a valid value") }
            return status
        }
        let page = try await environment.store.jobs.jobs(
            pipelineID: pipeline.id, filter: JobFilter(statuses: statuses, bridges: true), page: PageRequest(parameters))
        let downstream = try await environment.store.jobs.downstreamPipelines(ofBridges: page.items.map(\.id))
        var builder = JobEntities(store: environment.store, repositories: environment.repositories, baseURL: environment.settings.baseURL)
        var projects: [Int64: Project?] = [facts.project.id: facts.project]
        var entities: [BridgeEntity] = []
        for bridge in page.items {
            let job = try await builder.entity(bridge, pipeline: pipeline, project: facts.project)
            var shown: PipelineBasicEntity?
            if let started = downstream[bridge.id] {
                if projects[started.projectID] == nil {
                    var readable: Project?
                    if let other = try await environment.store.projects.find(id: started.projectID),
                        environment.authorizer.allows(context.actor, .readPipeline, try await environment.authorizer.facts(for: other, actor: context.actor))
                    {
                        readable = other
                    }
                    projects[started.projectID] = .some(readable)
                }
                if case .some(.some(let project)) = projects[started.projectID] {
                    shown = PipelineBasicEntity(started, projectPath: project.fullPath, baseURL: environment.settings.baseURL)
                }
            }
            entities.append(BridgeEntity(job: job, downstreamPipeline: shown))
        }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: environment.settings.baseURL)
    }
}

/// GitLab's `Ci::Bridge` entity: the job's fields and `downstream_pipeline`.
struct BridgeEntity: Encodable, Sendable {
    var job: JobEntity
    var downstreamPipeline: PipelineBasicEntity?

    private enum CodingKeys: String, CodingKey {
        case downstreamPipeline
    }

    func encode(to encoder: any Encoder) throws {
        try job.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let downstreamPipeline { try container.encode(downstreamPipeline, forKey: .downstreamPipeline) } else { try container.encodeNil(forKey: .downstreamPipeline) }
    }
}
