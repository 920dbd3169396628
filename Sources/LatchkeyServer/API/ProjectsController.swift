import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects`: create, list, read, change and delete projects.
struct ProjectsController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects", use: list)
        routes.post("projects", use: create)
        routes.get("projects/:id", use: show)
        routes.put("projects/:id", use: update)
        routes.delete("projects/:id", use: delete)
        routes.get("users/:user_id/projects", use: userProjects)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        var filter = ProjectFilter(viewer: try await environment.authorizer.projectViewer(context.actor))
        filter.search = try parameters.string("search")
        filter.visibility = try parameters.enumeration("visibility", Visibility.self)
        if let user = context.actor.user {
            if try parameters.bool("owned") == true {
                // GitLab's owned projects: the personal namespace's, and those the user holds the Owner role on.
                filter.ownedBy = user.id
                filter.ownedIncludesOwnerMemberships = true
            }
            if try parameters.bool("membership") == true {
                filter.membershipOnly = true
                // Administrators see everything, but "membership" still means their own memberships.
                filter.viewer = try await environment.authorizer.membershipViewer(user)
            }
        }
        try applyOrder(parameters, to: &filter)
        return try await respond(filter, request: request, parameters: parameters, actor: context.actor)
    }

    @Sendable func userProjects(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let raw = try context.parameters.require("user_id")
        let user: User? = if let id = Int64(raw) { try await environment.store.users.find(id: id) } else { try await environment.store.users.find(username: raw) }
        guard let user else { throw APIError.notFound("User") }
        var filter = ProjectFilter(viewer: try await environment.authorizer.projectViewer(context.actor))
        filter.ownedBy = user.id
        try applyOrder(parameters, to: &filter)
        return try await respond(filter, request: request, parameters: parameters, actor: context.actor)
    }

    private func applyOrder(_ parameters: APIParameters, to filter: inout ProjectFilter) throws {
        if let order = try parameters.string("order_by") {
            guard ["id", "name", "path", "created_at", "updated_at", "last_activity_at"].contains(order) else {
                throw APIError(.badRequest, error: "order_by does not have a valid value")
            }
            filter.orderBy = order == "updated_at" ? "last_activity_at" : order
        }
        if let sort = try parameters.string("sort") {
            guard ["asc", "desc"].contains(sort) else { throw APIError(.badRequest, error: "sort does not have a valid value") }
            filter.ascending = sort == "asc"
        }
    }

    private func respond(_ filter: ProjectFilter, request: Request, parameters: APIParameters, actor: Actor) async throws -> Response {
        let page = try await environment.store.projects.list(filter, page: PageRequest(parameters))
        // One query each for the viewer's levels and the personal projects' owners, whatever the page size.
        let levels = try await environment.authorizer.memberLevels(of: actor, on: page.items)
        let owners = try await environment.store.users.find(ids: page.items.compactMap { $0.namespace.kind == .user ? $0.namespace.ownerID : nil })
        let entities = await page.items.asyncMap { project -> ProjectEntity in
            let owner = project.namespace.kind == .user ? project.namespace.ownerID.flatMap { owners[$0] } : nil
            return ProjectEntity(
                project, baseURL: baseURL, emptyRepo: await environment.repositoryIsEmpty(project), owner: owner, memberLevel: levels[project.id])
        }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: baseURL)
    }

    private func entity(_ project: Project, actor: Actor) async throws -> ProjectEntity {
        let level = try await environment.authorizer.memberLevel(of: actor, on: project)
        var owner: User?
        if project.namespace.kind == .user, let ownerID = project.namespace.ownerID { owner = try await environment.store.users.find(id: ownerID) }
        return ProjectEntity(project, baseURL: baseURL, emptyRepo: await environment.repositoryIsEmpty(project), owner: owner, memberLevel: level)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readProject, actor: context.actor)
        return try JSON.response(try await entity(facts.project, actor: context.actor))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let user = context.actor.user else { throw APIError.unauthorized }
        let parameters = try await APIParameters.read(request, context: context)
        let givenName = try parameters.string("name")
        let givenPath = try parameters.string("path")
        guard givenName?.isEmpty == false || givenPath?.isEmpty == false else { throw APIError(.badRequest, error: "name, path are missing, at least one parameter must be provided") }
        let path = givenPath?.isEmpty == false ? givenPath! : Validation.path(fromName: givenName!)
        let name = givenName?.isEmpty == false ? givenName! : path
        guard Validation.isPath(path) else { throw APIError.validation(["path": [Validation.pathMessage]]) }
        let namespace: Namespace
        if let namespaceID = try parameters.int("namespace_id") {
            guard let found = try await environment.store.namespaces.namespace(id: namespaceID) else { throw APIError.notFound("Namespace") }
            do {
                try await environment.authorizer.authorizeNewProject(in: found, actor: context.actor)
            } catch let denied as AccessDenied {
                throw denied.denial == .notFound ? APIError.notFound("Namespace") : APIError.validation(["namespace": ["is not valid"]])
            }
            namespace = found
        } else {
            guard let personal = try await environment.store.namespaces.personalNamespace(userID: user.id) else { throw APIError.notFound("Namespace") }
            namespace = personal
        }
        let visibility = try parameters.enumeration("visibility", Visibility.self) ?? .private
        if namespace.kind == .group, let group = try await environment.store.namespaces.group(id: namespace.id), visibility > group.visibility {
            throw APIError.validation(["visibility_level": ["\(visibility.rawValue) is not allowed in a \(group.visibility.rawValue) group."]])
        }
        let defaultBranch = try parameters.string("default_branch") ?? "main"
        guard Git.isSafeRef(defaultBranch), !defaultBranch.contains("/.") else { throw APIError.invalid("default_branch") }
        let project: Project
        do {
            project = try await environment.store.projects.create(
                NewProject(name: name, path: path, namespaceID: namespace.id, visibility: visibility, description: try parameters.string("description") ?? "",
                           defaultBranch: defaultBranch), creatorID: user.id)
        } catch StoreError.duplicate {
            throw APIError.validation(["name": ["has already been taken"], "path": ["has already been taken"]])
        }
        do {
            try await environment.repositories.create(projectID: project.id, defaultBranch: defaultBranch)
            // GitLab protects a new project's default branch; "partially" (Developers push, Maintainers merge, no force push).
            _ = try await environment.store.protectedBranches.create(projectID: project.id, NewProtectedBranch(name: defaultBranch, pushAccessLevel: .developer))
            if try parameters.bool("initialize_with_readme") == true {
                try await environment.repositories.commitInitialReadme(projectID: project.id, project: project, author: user)
            }
        } catch {
            try? await environment.store.projects.delete(id: project.id)
            throw error
        }
        let recorded = await environment.recordRepositoryMetadata(project)
        // Creating a project in a group makes no membership; in GitLab the creator of a personal project is its owner by namespace.
        return try JSON.response(try await entity(recorded, actor: context.actor), status: .created)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        var changes = ProjectChanges()
        changes.name = try parameters.string("name")
        if let name = changes.name, name.isEmpty { throw APIError.validation(["name": ["can't be blank"]]) }
        changes.description = try parameters.string("description")
        changes.visibility = try parameters.enumeration("visibility", Visibility.self)
        if let visibility = changes.visibility, visibility != facts.project.visibility {
            try await environment.authorizer.authorize(context.actor, .removeProject, facts)
            // GitLab keeps a group's projects no more visible than the group, on update as on create.
            if facts.project.namespace.kind == .group, let group = try await environment.store.namespaces.group(id: facts.project.namespace.id),
                visibility > group.visibility
            {
                throw APIError.validation(["visibility_level": ["\(visibility.rawValue) is not allowed in a \(group.visibility.rawValue) group."]])
            }
        }
        changes.defaultBranch = try parameters.string("default_branch")
        changes.jobTokenPushAllowed = try parameters.bool("ci_push_repository_for_job_token_allowed")
        let ceiling = try parameters.jobTokenPermissions("ci_job_token_permissions_ceiling")
        var updated = try await environment.store.projects.update(id: facts.project.id, changes)
        if let ceiling { updated = try await environment.store.projects.setJobTokenPermissionsCeiling(id: updated.id, ceiling) }
        if updated.defaultBranch != facts.project.defaultBranch { updated = await environment.recordRepositoryMetadata(updated) }
        return try JSON.response(try await entity(updated, actor: context.actor))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .removeProject, actor: context.actor)
        try await environment.removeProjects([facts.project])
        return try JSON.response(["message": "202 Accepted"], status: .accepted)
    }
}
