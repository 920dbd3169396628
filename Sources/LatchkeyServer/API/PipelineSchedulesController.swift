import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/pipeline_schedules`: cron-driven pipelines that run as their owner.
struct PipelineSchedulesController {
    let environment: ServerEnvironment
    let creator: PipelineCreator
    private var authorizer: Authorizer { environment.authorizer }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/pipeline_schedules", use: list)
        routes.post("projects/:id/pipeline_schedules", use: create)
        routes.get("projects/:id/pipeline_schedules/:schedule_id", use: show)
        routes.put("projects/:id/pipeline_schedules/:schedule_id", use: update)
        routes.delete("projects/:id/pipeline_schedules/:schedule_id", use: delete)
        routes.post("projects/:id/pipeline_schedules/:schedule_id/take_ownership", use: takeOwnership)
        routes.post("projects/:id/pipeline_schedules/:schedule_id/play", use: play)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await authorizer.project(try context.parameters.require("id"), .readPipelineSchedule, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let active: Bool?
        switch try parameters.string("scope") {
        case nil: active = nil
        case "active": active = true
        case "inactive": active = false
        default: throw APIError(.badRequest, error: "scope does not have a valid value")
        }
        let page = try await environment.store.schedules.list(projectID: facts.project.id, active: active, page: PageRequest(parameters))
        var users = UserCache(store: environment.store)
        var entities: [PipelineScheduleEntity] = []
        for schedule in page.items { entities.append(PipelineScheduleEntity(schedule, owner: try await users.user(schedule.ownerID), baseURL: baseURL)) }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: baseURL)
    }

    /// The schedule named by the route, once the actor has `base` on its project (asked first, so a stranger learns nothing of
    /// schedules) and then `ability` on the schedule itself.
    private func schedule(_ context: AppRequestContext, _ base: ProjectAbility, _ ability: ScheduleAbility) async throws -> (PipelineSchedule, ProjectAccessFacts) {
        let facts = try await authorizer.project(try context.parameters.require("id"), base, actor: context.actor)
        guard let id = context.parameters.get("schedule_id", as: Int64.self), let schedule = try await environment.store.schedules.find(id: id, projectID: facts.project.id)
        else { throw APIError.notFound("Pipeline Schedule") }
        try authorizer.authorize(context.actor, ability, try await authorizer.facts(for: schedule, on: facts))
        return (schedule, facts)
    }

    private func respond(_ schedule: PipelineSchedule, project: Project, status: HTTPResponse.Status = .ok) async throws -> Response {
        var users = UserCache(store: environment.store)
        let last = try await environment.store.pipelines.list(
            projectID: project.id, filter: PipelineFilter(), page: PageRequest(page: 1, perPage: 100)
        ).items.first { $0.scheduleID == schedule.id }
        return try JSON.response(
            PipelineScheduleEntity(
                schedule, owner: try await users.user(schedule.ownerID), baseURL: baseURL,
                lastPipeline: last.map { PipelineBasicEntity($0, projectPath: project.fullPath, baseURL: baseURL) }, detailed: true),
            status: status)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (schedule, facts) = try await schedule(context, .readPipelineSchedule, .read)
        return try await respond(schedule, project: facts.project)
    }

    /// Validated cron, time zone and the next run they give.
    private func timing(cron: String, timezone: String) throws -> Date? {
        var problems: [String: [String]] = [:]
        let expression = try? CronExpression(cron)
        if expression == nil { problems["cron"] = [" is invalid syntax"] }
        let zone = CronTimeZone.resolve(timezone)
        if zone == nil { problems["cron_timezone"] = [" is invalid syntax"] }
        guard problems.isEmpty, let expression, let zone else { throw APIError.validation(problems) }
        return expression.nextDate(after: Date(), in: zone)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await authorizer.project(try context.parameters.require("id"), .createPipelineSchedule, actor: context.actor)
        guard let user = context.actor.user else { throw APIError.unauthorized }
        let parameters = try await APIParameters.read(request, context: context)
        let missing = ["description", "ref", "cron"].filter { ((try? parameters.string($0)) ?? nil) == nil }
        guard missing.isEmpty else { throw APIError(.badRequest, error: missing.map { "\($0) is missing" }.joined(separator: ", ")) }
        let cron = try parameters.requireString("cron")
        let timezone = try parameters.string("cron_timezone") ?? "UTC"
        let next = try timing(cron: cron, timezone: timezone)
        let ref = try parameters.requireString("ref")
        guard Git.isSafeRef(ref) else { throw APIError.validation(["ref": ["is invalid"]]) }
        let schedule = try await environment.store.schedules.create(
            projectID: facts.project.id, description: try parameters.string("description") ?? "", ref: ref, cron: cron, cronTimezone: timezone,
            active: try parameters.bool("active") ?? true, ownerID: user.id, nextRunAt: next)
        return try await respond(schedule, project: facts.project, status: .created)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        // Only the owner (or an administrator) may change a schedule (it runs as them); others take ownership first, as in GitLab.
        var (schedule, facts) = try await schedule(context, .createPipelineSchedule, .update)
        let parameters = try await APIParameters.read(request, context: context)
        if let description = try parameters.string("description") { schedule.description = description }
        if let ref = try parameters.string("ref") {
            guard Git.isSafeRef(ref) else { throw APIError.validation(["ref": ["is invalid"]]) }
            schedule.ref = ref
        }
        if let cron = try parameters.string("cron") { schedule.cron = cron }
        if let timezone = try parameters.string("cron_timezone") { schedule.cronTimezone = timezone }
        if let active = try parameters.bool("active") { schedule.active = active }
        schedule.nextRunAt = try timing(cron: schedule.cron, timezone: schedule.cronTimezone)
        return try await respond(try await environment.store.schedules.save(schedule), project: facts.project)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (schedule, facts) = try await schedule(context, .readPipelineSchedule, .delete)
        try await environment.store.schedules.delete(id: schedule.id)
        return try await respond(schedule, project: facts.project, status: .accepted)
    }

    @Sendable func takeOwnership(_ request: Request, context: AppRequestContext) async throws -> Response {
        var (schedule, facts) = try await schedule(context, .adminPipelineSchedule, .takeOwnership)
        guard let user = context.actor.user else { throw APIError.unauthorized }
        schedule.ownerID = user.id
        return try await respond(try await environment.store.schedules.save(schedule), project: facts.project, status: .created)
    }

    @Sendable func play(_ request: Request, context: AppRequestContext) async throws -> Response {
        // GitLab's PlayService.new(project, current_user): a played schedule runs as the player, with the player's rights (only
        // the cron run uses the owner), so playing someone's schedule never borrows their access; and not on a protected ref the
        // player may not run pipelines on (Ci::PipelineSchedulePolicy's protected_ref).
        let (schedule, facts) = try await schedule(context, .createPipeline, .play)
        guard let player = context.actor.signedInUser else { throw APIError.unauthorized }
        do {
            _ = try await creator.create(project: facts.project, ref: schedule.ref, source: .schedule, user: player, variables: schedule.variables, scheduleID: schedule.id)
        } catch PipelineCreator.Failure.unknownRef {
            throw APIError.validation(["base": ["Reference not found"]])
        } catch PipelineCreator.Failure.ambiguousRef {
            throw APIError.validation(["base": ["Ref is ambiguous"]])
        } catch PipelineCreator.Failure.missingConfiguration {
            throw APIError.validation(["base": ["Missing CI config file"]])
        } catch PipelineCreator.Failure.filtered(let messages) {
            throw APIError.validation(["base": messages])
        }
        return try JSON.response(["message": "201 Created"], status: .created)
    }
}
