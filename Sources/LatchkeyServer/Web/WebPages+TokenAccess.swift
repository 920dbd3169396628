import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore

extension WebPages {
    /// One resource of the fine-grained permissions matrix (None / Read / Read and write).
    struct ResourceOption {
        var resource: String
        var title: String
        var readPolicy: String
        var adminPolicy: String?
        var none: Bool
        var read: Bool
        var admin: Bool
    }

    /// The permissions part of an allowlist form.
    struct PermissionsForm {
        var fineGrained: Bool
        var resources: [ResourceOption]

        init(_ grant: AllowlistGrant) {
            fineGrained = !grant.defaultPermissions
            var resources: [ResourceOption] = []
            for policy in JobTokenPolicy.allCases where policy.rawValue.hasPrefix("read_") {
                let resource = String(policy.rawValue.dropFirst(5))
                let admin = JobTokenPolicy(rawValue: "admin_" + resource)
                let hasAdmin = admin.map { grant.policies.contains($0) } ?? false
                let hasRead = !hasAdmin && grant.policies.contains(policy)
                resources.append(ResourceOption(
                    resource: resource, title: resource.replacingOccurrences(of: "_", with: " ").capitalized, readPolicy: policy.rawValue, adminPolicy: admin?.rawValue,
                    none: !hasAdmin && !hasRead, read: hasRead, admin: hasAdmin))
            }
            self.resources = resources
        }
    }

    /// The project's ceiling over its jobs' `permissions:`, one row per resource.
    struct CeilingForm {
        struct Row {
            var resource: String
            var title: String
            var none: Bool
            var read: Bool
            var write: Bool
            var hasWrite: Bool
        }

        var isSet: Bool
        var summary: String
        var instanceSummary: String?
        var rows: [Row]

        init(_ ceiling: JobTokenPermissions?, instance: JobTokenPermissions?) {
            isSet = ceiling != nil
            summary = ceiling?.description ?? "no ceiling"
            instanceSummary = instance?.description
            let shown = ceiling ?? .all
            rows = JobTokenResource.allCases.map { resource in
                Row(
                    resource: resource.rawValue, title: resource.rawValue.replacingOccurrences(of: "_", with: " ").capitalized, none: shown[resource] == .none,
                    read: shown[resource] == .read, write: shown[resource] == .write, hasWrite: resource.maximum == .write)
            }
        }

        /// The ceiling a submitted form asks for: nil for "no ceiling", or a plain-words problem.
        static func ceiling(_ form: WebForm) -> Result<JobTokenPermissions?, FormProblem> {
            guard form["ceiling"] == "set" else { return .success(nil) }
            var entries: [(String, String)] = []
            for resource in JobTokenResource.allCases { entries.append((resource.rawValue, form["ceiling_\(resource.rawValue)"] ?? "none")) }
            switch JobTokenPermissions.parse(entries) {
            case .success(let permissions): return .success(permissions)
            case .failure(let error): return .failure(FormProblem("That ceiling cannot be saved: \(error.message)."))
            }
        }
    }

    struct EntryRow {
        var kind: String
        var isGroup: Bool
        var targetID: Int64
        var fullPath: String
        var url: String?
        var addedBy: String?
        var added: String
        var autopopulated: Bool
        var allPermissions: Bool
        var policies: [String]
        var permissions: PermissionsForm
    }

    struct LogRow {
        var originPath: String
        var originURL: String
        var lastAuthorized: String
        var lastAuthorizedAgo: String
        var listed: Bool
    }

    struct AddForm {
        var targetPath = ""
        var error: String?
        var permissions = PermissionsForm(AllowlistGrant())
    }

    struct TokenAccessView {
        var csrf: String
        var base: String
        var fullPath: String
        var inboundEnabled: Bool
        var enforced: Bool
        var inboundError: String?
        var outboundEnabled: Bool
        var outboundError: String?
        var pushAllowed: Bool
        var ceiling: CeilingForm
        var entries: [EntryRow]
        var projectCount: Int
        var groupCount: Int
        var outboundEntries: [EntryRow]
        var log: [LogRow]
        var hasUnlisted: Bool
        var hasLog: Bool
        var hasOutbound: Bool
        var csvURL: String
        var add: AddForm
        var outboundAdd: AddForm
        var projectLimit: Int
    }

    func ciSettings(_ web: inout WebRequest, _ path: String) async throws -> Response {
        let facts = try await project(web, path, .adminJobTokenScope)
        return try await settingsPage(&web, facts.project, facts: facts)
    }

    /// The CI/CD settings page; a form that failed passes its view back to show the errors next to what was typed.
    func settingsPage(
        _ web: inout WebRequest, _ project: Project, facts: ProjectAccessFacts, status: HTTPResponse.Status = .ok, adjust: (inout TokenAccessView) -> Void = { _ in }
    ) async throws -> Response {
        let store = environment.store
        let enforced = try await store.settings.value(JobTokenScopeRepository.enforcementSetting) == "true"
        var usernames: [Int64: String] = [:]
        func rows(_ entries: [AllowlistEntry]) async throws -> [EntryRow] {
            var rows: [EntryRow] = []
            for entry in entries {
                if let id = entry.addedByID, usernames[id] == nil { usernames[id] = try await store.users.find(id: id)?.username }
                let (isGroup, id, url): (Bool, Int64, String?) =
                    switch entry.target {
                    case .project(let target): (false, target.id, "/\(target.fullPath)")
                    case .group(let group): (true, group.id, nil)
                    }
                rows.append(EntryRow(
                    kind: isGroup ? "Group" : "Project", isGroup: isGroup, targetID: id, fullPath: entry.target.fullPath, url: url,
                    addedBy: entry.addedByID.flatMap { usernames[$0] }, added: WebFormat.date(entry.createdAt), autopopulated: entry.autopopulated,
                    allPermissions: entry.grant.defaultPermissions, policies: entry.grant.policies.map(\.rawValue).sorted(), permissions: PermissionsForm(entry.grant)))
            }
            return rows
        }
        let inbound = try await store.jobTokenScope.entries(project: project.id, direction: .inbound)
        let outbound = try await store.jobTokenScope.entries(project: project.id, direction: .outbound)
        let listedProjects = Set(inbound.compactMap { entry -> Int64? in if case .project(let p) = entry.target { p.id } else { nil } })
        let listedGroups = inbound.compactMap { entry -> String? in if case .group(let g) = entry.target { g.fullPath } else { nil } }
        let log = try await store.jobTokenScope.authorizations(accessed: project.id).map { entry in
            let origin = entry.originProject
            let listed = listedProjects.contains(origin.id)
                || listedGroups.contains { origin.namespace.fullPath == $0 || origin.namespace.fullPath.hasPrefix($0 + "/") }
            return LogRow(
                originPath: origin.fullPath, originURL: "/\(origin.fullPath)", lastAuthorized: WebFormat.date(entry.lastAuthorizedAt),
                lastAuthorizedAgo: WebFormat.ago(entry.lastAuthorizedAt), listed: listed)
        }
        let base = "/\(project.fullPath)/-/settings/ci_cd/token_access"
        let entries = try await rows(inbound)
        var view = TokenAccessView(
            csrf: web.session.csrf, base: base, fullPath: project.fullPath, inboundEnabled: project.jobTokenInboundEnabled || enforced, enforced: enforced,
            outboundEnabled: project.jobTokenOutboundEnabled, pushAllowed: project.jobTokenPushAllowed,
            ceiling: CeilingForm(project.jobTokenPermissionsCeiling, instance: try await store.settings.jobTokenPermissionsCeiling()), entries: entries,
            projectCount: entries.filter { !$0.isGroup }.count, groupCount: entries.filter(\.isGroup).count, outboundEntries: try await rows(outbound), log: log,
            hasUnlisted: log.contains { !$0.listed }, hasLog: !log.isEmpty, hasOutbound: !outbound.isEmpty, csvURL: "\(base)/authentication_log.csv", add: AddForm(), outboundAdd: AddForm(),
            projectLimit: AllowlistLimits.projects)
        adjust(&view)
        return page(
            &web, "settings_ci_cd", title: "CI/CD Settings · \(project.name)", view: view, status: status, project: navigation(web, facts, active: \.settings),
            crumbs: crumbs(project, Crumb(title: "Settings", url: nil), Crumb(title: "CI/CD", url: "/\(project.fullPath)/-/settings/ci_cd")))
    }

    /// The grant a form asks for, or a plain-words problem.
    static func grant(_ form: WebForm) -> Result<AllowlistGrant, FormProblem> {
        guard form["permissions"] == "fine_grained" else { return .success(AllowlistGrant()) }
        var policies: Set<JobTokenPolicy> = []
        for (name, value) in form.fields where name.hasPrefix("policy_") && !value.isEmpty {
            guard let policy = JobTokenPolicy(rawValue: value) else { return .failure(FormProblem("“\(value)” is not a permission Latchkey knows.")) }
            policies.insert(policy)
        }
        guard !policies.isEmpty else {
            return .failure(FormProblem("Choose at least one permission, or choose “Default permissions” to allow everything a job token can do."))
        }
        return .success(AllowlistGrant(defaultPermissions: false, policies: policies))
    }

    /// What a failed scope change says, in plain words; a 404 never tells whether the target exists.
    static func words(_ error: APIError, notFound: String) -> String {
        error.status == .notFound ? notFound : error.plainMessage
    }

    func tokenAccess(_ web: inout WebRequest, _ path: String, action: String) async throws -> Response {
        let facts = try await project(web, path, .adminJobTokenScope)
        let project = facts.project
        let actor = web.actor
        let form = web.form
        let back = "/\(project.fullPath)/-/settings/ci_cd#js-token-access"
        let notVisible = "No project or group at “\(form["target_path"] ?? "")” that you can see. Check the path (for example “my-group/my-project”)."
        do {
            switch action {
            case "inbound":
                let enabled = form.flag("enabled")
                try await scope.setInbound(enabled, project: project, by: actor)
                let notice = enabled
                    ? "Limit access to this project is on: only this project and the allowlist can use a job token here."
                    : "Limit access to this project is off: jobs from any project can use their job token here."
                return redirect(&web, to: back, notice: notice)
            case "outbound":
                let enabled = form.flag("enabled")
                try await scope.setOutbound(enabled, project: project, by: actor)
                return redirect(&web, to: back, notice: "Limit access from this project is \(enabled ? "on" : "off").")
            case "push":
                let allowed = form.flag("enabled")
                try await scope.setPushAllowed(allowed, project: project, by: actor)
                return redirect(&web, to: back, notice: allowed ? "Job tokens may now push to this repository." : "Job tokens may no longer push to this repository.")
            case "permissions_ceiling":
                switch CeilingForm.ceiling(form) {
                case .failure(let problem): return redirect(&web, to: back, alert: problem.text)
                case .success(let ceiling):
                    _ = try await environment.store.projects.setJobTokenPermissionsCeiling(id: project.id, ceiling)
                    let notice = ceiling.map { "Job tokens of this project may now use at most: \($0)." } ?? "Job tokens of this project have no permissions ceiling."
                    return redirect(&web, to: back, notice: notice)
                }
            case "allowlist":
                return try await addToAllowlist(&web, facts: facts)
            case "allowlist_remove", "outbound_remove":
                guard let id = form["target_id"].flatMap({ Int64($0) }) else { return redirect(&web, to: back, alert: "Choose an entry to remove.") }
                let path: String
                if form["target_type"] == "group" {
                    path = try await environment.store.namespaces.group(id: id)?.fullPath ?? "the group"
                    try await scope.removeGroup(id, from: project, by: actor)
                } else {
                    path = try await environment.store.projects.find(id: id)?.fullPath ?? "the project"
                    try await scope.removeProject(id, from: project, by: actor, direction: action == "outbound_remove" ? .outbound : .inbound)
                }
                return redirect(&web, to: back, notice: "\(path) was removed from the \(action == "outbound_remove" ? "outbound list" : "allowlist").")
            case "allowlist_permissions":
                guard let id = form["target_id"].flatMap({ Int64($0) }) else { return redirect(&web, to: back, alert: "Choose an entry to change.") }
                let target: AllowlistTarget? =
                    form["target_type"] == "group"
                    ? try await environment.store.namespaces.group(id: id).map { .group($0) } : try await environment.store.projects.find(id: id).map { .project($0) }
                guard let target else { return redirect(&web, to: back, alert: "That entry is no longer on the allowlist.") }
                switch Self.grant(form) {
                case .failure(let problem): return redirect(&web, to: back, alert: "\(target.fullPath): \(problem.text)")
                case .success(let grant):
                    try await scope.updateGrant(target, on: project, grant: grant, by: actor)
                    return redirect(&web, to: back, notice: "The permissions of \(target.fullPath) were saved.")
                }
            case "outbound_allowlist":
                let typed = form["target_path"] ?? ""
                func fail(_ text: String) async throws -> Response {
                    try await settingsPage(&web, project, facts: facts, status: .unprocessableContent) { view in
                        view.outboundAdd.targetPath = typed
                        view.outboundAdd.error = text
                    }
                }
                guard !typed.isEmpty else { return try await fail("Enter the path of a project, for example “my-group/my-project”.") }
                guard let target = try await environment.store.projects.find(fullPath: Self.trimmedPath(typed)) else { return try await fail(notVisible) }
                do {
                    _ = try await scope.addProject(target.id, to: project, grant: AllowlistGrant(), by: actor, direction: .outbound)
                } catch let error as APIError {
                    return try await fail(Self.words(error, notFound: notVisible))
                }
                return redirect(&web, to: back, notice: "\(target.fullPath) was added to the outbound list.")
            case "autopopulate":
                let added = try await scope.autopopulate(project, by: actor)
                if added.projects.isEmpty && added.groups.isEmpty {
                    return redirect(&web, to: back, notice: "Nothing to add: every project in the authentication log is already allowed.")
                }
                var parts: [String] = []
                if !added.projects.isEmpty { parts.append(WebFormat.plural(added.projects.count, "project")) }
                if !added.groups.isEmpty { parts.append(WebFormat.plural(added.groups.count, "group")) }
                return redirect(&web, to: back, notice: "Added \(parts.joined(separator: " and ")) from the authentication log to the allowlist.")
            default:
                throw WebError.notFound
            }
        } catch let error as APIError {
            // Switches refuse with a reason (the instance enforces the allowlist, say): show it by the switch.
            let text = Self.words(error, notFound: "That entry is not on the list any more.")
            if action == "inbound" || action == "outbound" {
                return try await settingsPage(&web, project, facts: facts, status: .unprocessableContent) { view in
                    if action == "inbound" { view.inboundError = text } else { view.outboundError = text }
                }
            }
            return redirect(&web, to: back, alert: text)
        }
    }

    /// `https://host/group/project`, `/group/project/` and `group/project` all name `group/project`.
    static func trimmedPath(_ typed: String) -> String {
        var path = typed.trimmingCharacters(in: .whitespacesAndNewlines)
        if let url = URL(string: path), url.scheme != nil { path = url.path }
        return path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    private func addToAllowlist(_ web: inout WebRequest, facts: ProjectAccessFacts) async throws -> Response {
        let project = facts.project
        let form = web.form
        let typed = form["target_path"] ?? ""
        let requested: AllowlistGrant? = try? Self.grant(form).get()
        func fail(_ text: String) async throws -> Response {
            try await settingsPage(&web, project, facts: facts, status: .unprocessableContent) { view in
                view.add.targetPath = typed
                view.add.error = text
                // Keep the permissions as they were chosen, even the ones that were not valid.
                var chosen = PermissionsForm(requested ?? AllowlistGrant(defaultPermissions: form["permissions"] != "fine_grained"))
                if requested == nil {
                    let picked = Set(form.fields.filter { $0.0.hasPrefix("policy_") }.map(\.1))
                    for index in chosen.resources.indices {
                        chosen.resources[index].admin = chosen.resources[index].adminPolicy.map(picked.contains) ?? false
                        chosen.resources[index].read = !chosen.resources[index].admin && picked.contains(chosen.resources[index].readPolicy)
                        chosen.resources[index].none = !chosen.resources[index].admin && !chosen.resources[index].read
                    }
                }
                view.add.permissions = chosen
            }
        }
        guard !typed.isEmpty else { return try await fail("Enter the path of a project or a group, for example “my-group/my-project” or “my-group”.") }
        let grant: AllowlistGrant
        switch Self.grant(form) {
        case .failure(let problem): return try await fail(problem.text)
        case .success(let value): grant = value
        }
        let path = Self.trimmedPath(typed)
        let notVisible = "No project or group at “\(path)” that you can see. Check the path (for example “my-group/my-project”)."
        do {
            if let target = try await environment.store.projects.find(fullPath: path) {
                _ = try await scope.addProject(target.id, to: project, grant: grant, by: web.actor)
                return redirect(&web, to: "/\(project.fullPath)/-/settings/ci_cd#js-token-access", notice: "\(target.fullPath) was added to the allowlist.")
            }
            if let group = try await environment.store.namespaces.group(fullPath: path) {
                _ = try await scope.addGroup(group.id, to: project, grant: grant, by: web.actor)
                return redirect(&web, to: "/\(project.fullPath)/-/settings/ci_cd#js-token-access", notice: "\(group.fullPath) was added to the allowlist.")
            }
        } catch let error as APIError {
            return try await fail(Self.words(error, notFound: notVisible))
        }
        return try await fail(notVisible)
    }

    func authenticationLogCSV(_ web: inout WebRequest, _ path: String) async throws -> Response {
        let facts = try await project(web, path, .adminJobTokenScope)
        var csv = "Origin Project Path,Last Authorized At (UTC)\n"
        for entry in try await environment.store.jobTokenScope.authorizations(accessed: facts.project.id) {
            csv += "\(CSV.field(entry.originProject.fullPath)),\(GitLabDate.format(entry.lastAuthorizedAt))\n"
        }
        var headers = Self.securityHeaders
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(facts.project.path)-job-token-authentication-log.csv\""
        var response = Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
        finish(&response, web)
        return response
    }
}

/// A form value that cannot be used, in plain words.
struct FormProblem: Error {
    let text: String
    init(_ text: String) { self.text = text }
}
