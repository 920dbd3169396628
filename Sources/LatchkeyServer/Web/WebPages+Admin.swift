import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

extension WebPages {
    struct AdminUserRow {
        var username: String
        var name: String
        var email: String
        var isAdmin: Bool
        var blocked: Bool
        var created: String
    }

    struct AdminGroupRow {
        var fullPath: String
        var name: String
        var visibility: String
        var created: String
    }

    struct AdminRunnerRow {
        var id: Int64
        var description: String
        var tags: String
        var embedded: Bool
        var active: Bool
        var version: String
        var contacted: String
    }

    struct AdminView {
        var csrf: String
        var overview: Bool
        var usersSection: Bool
        var groupsSection: Bool
        var runnersSection: Bool
        var settingsSection: Bool
        var userCount: Int
        var groupCount: Int
        var runnerCount: Int
        var projectCount: Int
        var users: [AdminUserRow]
        var groups: [AdminGroupRow]
        var runners: [AdminRunnerRow]
        var registrationToken: String?
        var enforced: Bool
    }

    /// Administrators only; everyone else sees no admin area at all.
    private func requireAdmin(_ web: WebRequest) throws {
        guard web.user != nil else { throw WebError.signInRequired(returnTo: web.returnPath) }
        guard AccessPolicy.mayAdministerInstance(web.actor).isAllowed else { throw WebError.notFound }
    }

    func admin(_ web: inout WebRequest, section: String) async throws -> Response {
        try requireAdmin(web)
        let store = environment.store
        let users = try await store.users.list(page: PageRequest(page: 1, perPage: 100))
        let groups = try await store.namespaces.listGroups()
        let runners = try await store.runners.list()
        let projects = try await store.projects.list(ProjectFilter(viewer: .admin), page: PageRequest(page: 1, perPage: 1))
        let view = AdminView(
            csrf: web.session.csrf, overview: section.isEmpty, usersSection: section == "users", groupsSection: section == "groups",
            runnersSection: section == "runners", settingsSection: section == "application_settings/ci_cd", userCount: users.total, groupCount: groups.count,
            runnerCount: runners.count, projectCount: projects.total,
            users: users.items.map {
                AdminUserRow(username: $0.username, name: $0.name, email: $0.email, isAdmin: $0.isAdmin, blocked: $0.isBlocked, created: WebFormat.date($0.createdAt))
            },
            groups: groups.sorted { $0.fullPath < $1.fullPath }.map {
                AdminGroupRow(fullPath: $0.fullPath, name: $0.fullName, visibility: $0.visibility.rawValue, created: WebFormat.date($0.createdAt))
            },
            runners: runners.map {
                AdminRunnerRow(
                    id: $0.id, description: $0.description, tags: $0.tags.joined(separator: ", "), embedded: $0.embedded, active: $0.active, version: $0.version,
                    contacted: $0.contactedAt.map { WebFormat.ago($0) } ?? "never")
            },
            // Shown to administrators only, as GitLab does; never logged.
            registrationToken: section == "runners" ? try? await environment.registrationToken() : nil,
            enforced: try await store.settings.value(JobTokenScopeRepository.enforcementSetting) == "true")
        let titles = ["": "Admin area", "users": "Users", "groups": "Groups", "runners": "Runners", "application_settings/ci_cd": "CI/CD settings"]
        let title = titles[section] ?? "Admin area"
        var crumbs = [Crumb(title: "Admin area", url: "/admin")]
        if !section.isEmpty { crumbs.append(Crumb(title: title, url: nil)) }
        return page(&web, "admin", title: title, view: view, admin: true, crumbs: crumbs)
    }

    /// The instance switch "Enable and enforce job token allowlist for all projects".
    func setEnforcement(_ web: inout WebRequest) async throws -> Response {
        try requireAdmin(web)
        let enforced = web.form.flag("enforced")
        try await environment.store.settings.set(JobTokenScopeRepository.enforcementSetting, to: enforced ? "true" : "false")
        let notice = enforced
            ? "Every project now limits job token access to its allowlist; projects cannot turn it off."
            : "Projects may again choose whether to limit job token access."
        return redirect(&web, to: "/admin/application_settings/ci_cd", notice: notice)
    }
}
