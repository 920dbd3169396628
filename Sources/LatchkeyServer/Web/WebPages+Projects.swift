import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

extension WebPages {
    struct ProjectRow {
        var name: String
        var fullPath: String
        var namespace: String
        var description: String?
        var visibility: String
        var lastActivity: String
        var initial: String
    }

    struct DashboardView {
        var projects: [ProjectRow]
        var total: Int
        var hasProjects: Bool
    }

    struct PipelineRow {
        var id: Int64
        var iid: Int64
        var url: String
        var status: StatusView
        var ref: String
        var shortSHA: String
        var source: String
        var user: String?
        var created: String
        var createdAt: String
        var duration: String?
    }

    struct ProjectView {
        var name: String
        var initial: String
        var fullPath: String
        var description: String?
        var visibility: String
        var cloneURL: String
        var defaultBranch: String
        var pipelines: [PipelineRow]
        var pipelinesURL: String
        var settingsURL: String?
        var hasPipelines: Bool
    }

    struct PipelinesView {
        var projectName: String
        var pipelines: [PipelineRow]
        var page: Int
        var previousURL: String?
        var nextURL: String?
        var hasPipelines: Bool
        /// The status tabs over the list; `current` marks the one shown.
        var filters: [StatusFilter]
        /// The status shown, for the empty state ("No failed pipelines").
        var filterLabel: String?
        var allURL: String
    }

    struct StatusFilter {
        var label: String
        var url: String
        var current: Bool
    }

    /// The list's tabs, in GitLab's words.
    static let statusFilters: [(label: String, status: PipelineStatus?)] = [
        ("All", nil), ("Running", .running), ("Pending", .pending), ("Passed", .success), ("Failed", .failed), ("Canceled", .canceled),
        ("Manual", .manual), ("Scheduled", .scheduled), ("Skipped", .skipped),
    ]

    struct JobRow {
        var id: Int64
        var name: String
        var url: String
        var status: StatusView
        var duration: String?
        var allowFailure: Bool
        /// Play, retry and cancel forms, only where the viewer may update the job.
        var actionBase: String
        var csrf: String
        var canPlay = false
        var canCancel = false
        var canRetry = false
        /// "stuck: no online runner has the tags x, y" for a pending job no online runner can take.
        var stuck: String?
        /// The jobs it `needs:`, by name.
        var needs: String?
        /// The same as a JSON array, for the script that draws the `needs:` edges.
        var needsJSON: String?
        /// A bridge's "triggered pipeline #N" (linked when the viewer may read it), or where it points before it has one.
        var downstream: String?
        var downstreamURL: String?
    }

    struct StageView {
        var name: String
        var status: StatusView
        var jobs: [JobRow]
    }

    struct PipelineView {
        var pipeline: PipelineRow
        var stages: [StageView]
        var yamlErrors: String?
        var hasStages: Bool
    }

    /// One distinct job-token refusal notice of a trace and how often it appears.
    struct RefusalRow {
        var text: String
        var count: Int
        var repeated: Bool
    }

    struct JobView {
        var id: Int64
        var name: String
        var stage: String
        var status: StatusView
        var pipelineURL: String
        var pipelineID: Int64
        var ref: String
        var shortSHA: String
        var user: String?
        var runner: String?
        var duration: String?
        var started: String?
        var finished: String?
        var failureReason: String?
        /// The rendered log: HTML built by `JobLogHTML`, every trace character escaped.
        var trace: String
        var hasTrace: Bool
        var traceTruncated: Bool
        var rawURL: String
        var downloadURL: String
        var traceURL: String
        var traceOffset: Int
        var live: Bool
        var refusals: [RefusalRow]
        var hasRefusals: Bool
        var active: Bool
        var artifactsURL: String?
        var artifactsSize: String?
        var artifactsExpire: String?
        var actionBase: String
        var csrf: String
        /// Whether the viewer may update the job: the page then carries every button, showing those the job's state allows
        /// (the live tail shows the others as the state changes).
        var canUpdate: Bool
        var canPlay: Bool
        var canCancel: Bool
        var canRetry: Bool
    }

    func dashboard(_ web: inout WebRequest) async throws -> Response {
        guard web.user != nil else { throw WebError.signInRequired(returnTo: "/") }
        var filter = ProjectFilter(viewer: try await environment.authorizer.projectViewer(web.actor))
        filter.membershipOnly = true
        filter.orderBy = "last_activity_at"
        let page = try await environment.store.projects.list(filter, page: PageRequest(page: 1, perPage: 100))
        let rows = page.items.map { project in
            ProjectRow(
                name: project.name, fullPath: project.fullPath, namespace: project.namespace.name, description: project.description.isEmpty ? nil : project.description,
                visibility: project.visibility.rawValue, lastActivity: WebFormat.ago(project.lastActivityAt), initial: String(project.name.prefix(1)).uppercased())
        }
        return self.page(&web, "dashboard", title: "Projects", view: DashboardView(projects: rows, total: page.total, hasProjects: !rows.isEmpty))
    }

    func pipelineRows(_ pipelines: [Pipeline], project: Project) async throws -> [PipelineRow] {
        var users: [Int64: String] = [:]
        var rows: [PipelineRow] = []
        for pipeline in pipelines {
            if let id = pipeline.userID, users[id] == nil { users[id] = try await environment.store.users.find(id: id)?.username }
            rows.append(pipelineRow(pipeline, project: project, user: pipeline.userID.flatMap { users[$0] }))
        }
        return rows
    }

    func pipelineRow(_ pipeline: Pipeline, project: Project, user: String?) -> PipelineRow {
        PipelineRow(
            id: pipeline.id, iid: pipeline.iid, url: "/\(project.fullPath)/-/pipelines/\(pipeline.id)", status: StatusView(pipeline.status.rawValue),
            ref: pipeline.ref, shortSHA: String(pipeline.sha.prefix(8)), source: pipeline.source.rawValue, user: user, created: WebFormat.ago(pipeline.createdAt),
            createdAt: WebFormat.date(pipeline.createdAt), duration: WebFormat.duration(pipeline.duration))
    }

    func projectPage(_ web: inout WebRequest, _ path: String) async throws -> Response {
        let facts = try await project(web, path, .readProject)
        let project = facts.project
        var pipelines: [PipelineRow] = []
        if may(web, .readPipeline, facts) {
            let page = try await environment.store.pipelines.list(projectID: project.id, filter: PipelineFilter(), page: PageRequest(page: 1, perPage: 5))
            pipelines = try await pipelineRows(page.items, project: project)
        }
        let view = ProjectView(
            name: project.name, initial: String(project.name.prefix(1)).uppercased(), fullPath: project.fullPath, description: project.description.isEmpty ? nil : project.description, visibility: project.visibility.rawValue,
            cloneURL: "\(environment.settings.baseURL)/\(project.fullPath).git", defaultBranch: project.defaultBranch, pipelines: pipelines,
            pipelinesURL: "/\(project.fullPath)/-/pipelines", settingsURL: may(web, .adminJobTokenScope, facts) ? "/\(project.fullPath)/-/settings/ci_cd" : nil, hasPipelines: !pipelines.isEmpty)
        return page(&web, "project", title: project.name, view: view, project: navigation(web, facts, active: \.overview), crumbs: crumbs(project))
    }

    func pipelinesPage(_ web: inout WebRequest, _ path: String) async throws -> Response {
        let facts = try await project(web, path, .readPipeline)
        let project = facts.project
        let number = min(100_000, max(1, web.request.uri.queryParameters.get("page").flatMap { Int($0) } ?? 1))
        // An unknown status shows every pipeline, as GitLab's list does for a filter it does not know.
        let status = web.request.uri.queryParameters.get("status").flatMap { PipelineStatus(rawValue: String($0)) }
        let page = try await environment.store.pipelines.list(projectID: project.id, filter: PipelineFilter(status: status), page: PageRequest(page: number, perPage: 20))
        let base = "/\(project.fullPath)/-/pipelines"
        let filtered = status.map { "status=\($0.rawValue)&" } ?? ""
        let view = PipelinesView(
            projectName: project.name, pipelines: try await pipelineRows(page.items, project: project), page: number,
            previousURL: number > 1 ? "\(base)?\(filtered)page=\(number - 1)" : nil,
            nextURL: number * 20 < page.total ? "\(base)?\(filtered)page=\(number + 1)" : nil, hasPipelines: !page.items.isEmpty,
            filters: Self.statusFilters.map { StatusFilter(label: $0.label, url: $0.status.map { "\(base)?status=\($0.rawValue)" } ?? base, current: $0.status == status) },
            filterLabel: status.map { Self.statusFilters.first(where: { $0.status == status })?.label ?? $0.rawValue }, allURL: base)
        return self.page(
            &web, "pipelines", title: "Pipelines · \(project.name)", view: view, project: navigation(web, facts, active: \.pipelines),
            crumbs: crumbs(project, Crumb(title: "Pipelines", url: base)))
    }

    func pipelinePage(_ web: inout WebRequest, _ path: String, id: Int64) async throws -> Response {
        let facts = try await project(web, path, .readPipeline)
        let project = facts.project
        guard let pipeline = try await environment.store.pipelines.find(id: id), pipeline.projectID == project.id else { throw WebError.notFound }
        var stages: [StageView] = []
        if may(web, .readJob, facts) {
            let jobs = try await environment.store.jobs.jobs(pipelineID: pipeline.id).items.sorted { ($0.stageIndex, $0.id) < ($1.stageIndex, $1.id) }
            let canUpdate = may(web, .updateJob, facts)
            let online = jobs.contains { $0.status == .pending && !$0.definition.isBridge } ? try await environment.store.runners.list().filter(Self.isOnline) : []
            let downstream = try await environment.store.jobs.downstreamPipelines(ofBridges: jobs.filter(\.definition.isBridge).map(\.id))
            for job in jobs {
                var row = JobRow(
                    id: job.id, name: job.name, url: "/\(project.fullPath)/-/jobs/\(job.id)", status: Self.jobStatus(job),
                    duration: WebFormat.duration(job.duration), allowFailure: job.definition.allowFailure, actionBase: "/\(project.fullPath)/-/jobs/\(job.id)",
                    csrf: web.session.csrf)
                row.canPlay = canUpdate && [.manual, .scheduled].contains(job.status)
                row.canCancel = canUpdate && [.created, .pending, .running, .scheduled].contains(job.status)
                row.canRetry = canUpdate && !job.retried && [.success, .failed, .canceled].contains(job.status)
                if let trigger = job.definition.trigger {
                    try await describe(trigger, started: downstream[job.id], web: web, into: &row)
                } else if job.status == .pending, !online.contains(where: { $0.canRun(tags: job.definition.tags) }) {
                    row.stuck = job.definition.tags.isEmpty ? "stuck: no online runner runs untagged jobs" : "stuck: no online runner has the tags \(job.definition.tags.joined(separator: ", "))"
                }
                if let needs = job.definition.needs, !needs.isEmpty {
                    row.needs = needs.joined(separator: ", ")
                    row.needsJSON = (try? JSONEncoder().encode(needs)).map { String(decoding: $0, as: UTF8.self) }
                }
                if let last = stages.indices.last, stages[last].name == job.stage {
                    stages[last].jobs.append(row)
                } else {
                    stages.append(StageView(name: job.stage, status: StatusView("created"), jobs: [row]))
                }
            }
            for index in stages.indices { stages[index].status = Self.stageStatusView(stages[index].jobs.map(\.status.status)) }
        }
        let user = try await pipeline.userID.asyncFlatMap { try await environment.store.users.find(id: $0)?.username }
        var row = pipelineRow(pipeline, project: project, user: user)
        if pipeline.status == .success, stages.contains(where: { $0.jobs.contains { $0.status.status == Self.warning } }) {
            row.status = StatusView(status: Self.warning, label: "passed with warnings")
        }
        let view = PipelineView(pipeline: row, stages: stages, yamlErrors: pipeline.yamlErrors, hasStages: !stages.isEmpty)
        let active = [PipelineStatus.created, .pending, .running, .canceling].contains(pipeline.status)
        return page(
            &web, "pipeline", title: "Pipeline #\(pipeline.id) · \(project.name)", view: view, project: navigation(web, facts, active: \.pipelines),
            refresh: active ? "5" : nil, script: stages.contains { $0.jobs.contains { $0.needsJSON != nil } },
            crumbs: crumbs(project, Crumb(title: "Pipelines", url: "/\(project.fullPath)/-/pipelines"), Crumb(title: "#\(pipeline.id)", url: nil)))
    }

    /// A bridge's row: the pipeline it started, linked only when the visitor may read that project's pipelines.
    private func describe(_ trigger: CITrigger, started: Pipeline?, web: WebRequest, into row: inout JobRow) async throws {
        guard let started else {
            // Not the project's path: it may come from CI/CD variables, and the visitor may not see that project at all.
            row.downstream = trigger.isChild ? "triggers a child pipeline" : "triggers a multi-project pipeline"
            return
        }
        row.downstream = "triggered pipeline #\(started.id)"
        if let other = try await environment.store.projects.find(id: started.projectID),
            may(web, .readPipeline, try await environment.authorizer.facts(for: other, actor: web.actor))
        {
            row.downstreamURL = "/\(other.fullPath)/-/pipelines/\(started.id)"
        }
    }

    /// The status a page shows for a job that failed but was allowed to (GitLab's warning state).
    static let warning = "warning"

    /// GitLab counts a runner online when it asked for jobs within the last two hours.
    static func isOnline(_ runner: Runner) -> Bool {
        runner.active && (runner.contactedAt.map { Date().timeIntervalSince($0) < 2 * 3600 } ?? false)
    }

    static func jobStatus(_ job: Job) -> StatusView {
        job.status == .failed && job.definition.allowFailure ? StatusView(status: warning, label: "failed (allowed to fail)") : StatusView(job.status.rawValue)
    }

    /// A stage's badge: a failure that was allowed reads "passed with warnings", as in GitLab.
    static func stageStatusView(_ all: [String]) -> StatusView {
        let status = stageStatus(all.map { $0 == warning ? "success" : $0 })
        if status == "success", all.contains(warning) { return StatusView(status: warning, label: "passed with warnings") }
        return StatusView(status)
    }

    /// A stage reads as its most telling job status.
    static func stageStatus(_ all: [String]) -> String {
        // Manual jobs wait for a person; they do not hold back the stage's result (as in GitLab).
        let statuses = all.contains { $0 != "manual" } ? all.filter { $0 != "manual" } : all
        for status in ["running", "canceling", "pending", "scheduled", "failed", "canceled", "manual", "created", "success", "skipped"] where statuses.contains(status) {
            if status == "success", statuses.contains(where: { $0 != "success" && $0 != "skipped" }) { continue }
            return status
        }
        return "created"
    }

    /// The job of the project at `path`, when the visitor may use `ability` on it.
    func job(_ web: WebRequest, _ path: String, id: Int64, _ ability: ProjectAbility) async throws -> (Job, ProjectAccessFacts) {
        let facts = try await project(web, path, ability)
        guard let job = try await environment.store.jobs.find(id: id), job.projectID == facts.project.id else { throw WebError.notFound }
        return (job, facts)
    }

    /// How much of a trace the page shows; the raw log has all of it.
    static let traceLimit = 512 * 1024

    func jobPage(_ web: inout WebRequest, _ path: String, id: Int64) async throws -> Response {
        let (job, facts) = try await self.job(web, path, id: id, .readJob)
        let project = facts.project
        let pipeline = try await environment.store.pipelines.find(id: job.pipelineID)
        let window = try await traceWindow(environment.traces.read(jobID: job.id), job: job)
        let trace = JobLogHTML.render(window.rendered.log, firstNumber: window.firstNumber)
        let refusals = window.rendered.refusals.map { RefusalRow(text: $0.text, count: $0.count, repeated: $0.count > 1) }
        var artifactsURL: String?
        var artifactsSize: String?
        var artifactsExpire: String?
        if may(web, .readJobArtifacts, facts), let archive = try await environment.store.artifacts.archive(jobID: job.id) {
            artifactsURL = "/\(project.fullPath)/-/jobs/\(job.id)/artifacts/download"
            artifactsSize = WebFormat.size(archive.size)
            artifactsExpire = archive.expireAt.map(WebFormat.date)
        }
        let canUpdate = may(web, .updateJob, facts)
        let buttons = JobButtons(job, canUpdate: canUpdate)
        let user = try await job.userID.asyncFlatMap { try await environment.store.users.find(id: $0)?.username }
        let runner = try await job.runnerID.asyncFlatMap { id in try await environment.store.runners.find(id: id).map { "#\($0.id) \($0.description)" } }
        let view = JobView(
            id: job.id, name: job.name, stage: job.stage, status: StatusView(job.status.rawValue), pipelineURL: "/\(project.fullPath)/-/pipelines/\(job.pipelineID)",
            pipelineID: job.pipelineID, ref: pipeline?.ref ?? "", shortSHA: String(pipeline?.sha.prefix(8) ?? ""), user: user, runner: runner,
            duration: WebFormat.duration(job.duration), started: job.startedAt.map(WebFormat.date), finished: job.finishedAt.map(WebFormat.date),
            failureReason: job.failureReason, trace: trace, hasTrace: !trace.isEmpty, traceTruncated: window.truncated, rawURL: "/\(project.fullPath)/-/jobs/\(job.id)/raw",
            downloadURL: "/\(project.fullPath)/-/jobs/\(job.id)/raw?download=1", traceURL: "/\(project.fullPath)/-/jobs/\(job.id)/trace.json",
            traceOffset: window.end, live: !job.status.isFinished, refusals: refusals, hasRefusals: !refusals.isEmpty,
            active: job.status.isActive, artifactsURL: artifactsURL, artifactsSize: artifactsSize, artifactsExpire: artifactsExpire,
            actionBase: "/\(project.fullPath)/-/jobs/\(job.id)", csrf: web.session.csrf,
            canUpdate: canUpdate, canPlay: buttons.canPlay, canCancel: buttons.canCancel, canRetry: buttons.canRetry)
        // The page's script follows a running job through trace.json; without JavaScript the page reloads itself until the job ends.
        return page(
            &web, "job", title: "\(job.name) (#\(job.id)) · \(project.name)", view: view, project: navigation(web, facts, active: \.pipelines),
            noscriptRefresh: job.status.isFinished ? nil : "5", script: true,
            crumbs: crumbs(
                project, Crumb(title: "Pipelines", url: "/\(project.fullPath)/-/pipelines"), Crumb(title: "#\(job.pipelineID)", url: view.pipelineURL),
                Crumb(title: job.name, url: nil)))
    }

    func jobRaw(_ web: inout WebRequest, _ path: String, id: Int64) async throws -> Response {
        let (job, _) = try await self.job(web, path, id: id, .readJob)
        var headers = Self.securityHeaders
        headers[.contentType] = "text/plain; charset=utf-8"
        if web.request.uri.queryParameters.get("download") != nil {
            headers[.contentDisposition] = "attachment; filename=\"job-\(job.id).log\""
        }
        var response = Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: environment.traces.read(jobID: job.id))))
        finish(&response, web)
        return response
    }

    /// Play, cancel and retry: what `JobsController` does, behind the same `update_build` decision.
    func jobAction(_ web: inout WebRequest, _ path: String, id: Int64, action: String) async throws -> Response {
        let (job, facts) = try await self.job(web, path, id: id, .updateJob)
        guard let user = web.user else { throw refusal(web) }
        let base = "/\(facts.project.fullPath)/-/jobs"
        // As the jobs API (GitLab's Ci::BuildPolicy): on a protected ref only those who may run pipelines there play, cancel or retry.
        if let pipeline = try await environment.store.pipelines.find(id: job.pipelineID) {
            do {
                try await environment.authorizer.authorize(web.actor, .updateJob, facts, ref: pipeline.ref, isTag: pipeline.isTag)
            } catch is AccessDenied {
                return redirect(&web, to: "\(base)/\(job.id)", alert: "You may not run jobs on the protected ref \(pipeline.ref).")
            }
        }
        switch action {
        case "play":
            guard let played = try await environment.store.jobs.play(jobID: job.id, userID: user.id) else {
                return redirect(&web, to: "\(base)/\(job.id)", alert: "This job is not waiting to be played.")
            }
            await queue.notify()
            return redirect(&web, to: "\(base)/\(played.id)", notice: "The job was started.")
        case "cancel":
            guard try await environment.store.jobs.cancel(jobID: job.id) != nil else {
                return redirect(&web, to: "\(base)/\(job.id)", alert: "This job has already finished.")
            }
            return redirect(&web, to: "\(base)/\(job.id)", notice: "The job was canceled.")
        default:
            guard let retried = try await environment.store.jobs.retry(jobID: job.id, userID: user.id) else {
                return redirect(&web, to: "\(base)/\(job.id)", alert: "This job cannot be retried.")
            }
            await queue.notify()
            return redirect(&web, to: "\(base)/\(retried.id)", notice: "The job was retried as #\(retried.id).")
        }
    }

    func jobArtifacts(_ web: inout WebRequest, _ path: String, id: Int64) async throws -> Response {
        let (job, _) = try await self.job(web, path, id: id, .readJobArtifacts)
        guard let archive = try await environment.store.artifacts.archive(jobID: job.id) else { throw WebError.notFound }
        var response = try await ArtifactResponse.file(
            environment.artifacts.url(archive.storagePath), filename: archive.filename, request: web.request, context: web.context)
        finish(&response, web)
        return response
    }
}
