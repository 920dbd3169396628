import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// CI/CD variables at the three levels GitLab has: `/projects/:id/variables` (Maintainer), `/groups/:id/variables` (Owner,
/// inherited by every project below the group) and `/admin/ci/variables` (administrators; every project). Job tokens are
/// no credential here.
struct VariablesController {
    let authorizer: Authorizer
    let variables: VariableRepository
    let baseURL: String

    /// Which level a route is.
    enum Level: Sendable {
        case project, group, instance

        /// Instance variables have no environment scope in GitLab.
        var hasScopes: Bool { self != .instance }
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        for (path, level) in [("projects/:id/variables", Level.project), ("groups/:id/variables", .group), ("admin/ci/variables", .instance)] {
            routes.get(RouterPath(path)) { request, context in try await list(level, request, context: context) }
            routes.post(RouterPath(path)) { request, context in try await create(level, request, context: context) }
            routes.get(RouterPath(path + "/:key")) { request, context in try await show(level, request, context: context) }
            routes.put(RouterPath(path + "/:key")) { request, context in try await update(level, request, context: context) }
            routes.delete(RouterPath(path + "/:key")) { request, context in try await delete(level, request, context: context) }
        }
        return routes
    }

    struct VariableEntity: Encodable {
        var key: String
        // GitLab 17.4+: a hidden variable's value is `null` in every answer, creation included.
        @Nullable var value: String?
        var variableType: String
        var `protected`: Bool
        var masked: Bool
        var hidden: Bool?
        var raw: Bool
        var environmentScope: String?
        @Nullable var description: String?

        init(_ variable: ProjectVariable, level: Level = .project) {
            key = variable.key
            value = variable.hidden ? nil : variable.value
            variableType = variable.variableType
            self.protected = variable.protected
            masked = variable.masked
            raw = variable.raw
            description = variable.description
            if level.hasScopes {
                hidden = variable.hidden
                environmentScope = variable.environmentScope
            }
        }
    }

    /// The level's owner, if the actor may administer its variables.
    private func owner(_ level: Level, _ context: AppRequestContext) async throws -> VariableOwner {
        switch level {
        case .project:
            .project(try await authorizer.project(try context.parameters.require("id"), .adminVariables, actor: context.actor).project.id)
        case .group:
            .group(try await authorizer.group(try context.parameters.require("id"), .adminVariables, actor: context.actor).group.id)
        case .instance:
            try { try authorizer.authorizeInstanceAdministration(context.actor); return .instance }()
        }
    }

    /// `filter[environment_scope]`, as a query field or a JSON object.
    private static func scopeFilter(_ parameters: APIParameters) throws -> String? {
        if case .object(let filter)? = parameters["filter"], case .string(let scope)? = filter["environment_scope"] { return scope }
        return try parameters.string("filter[environment_scope]")
    }

    /// The variable of the route's key (and scope filter); GitLab's 409 when several scopes hold the key and none was named.
    private func existing(_ owner: VariableOwner, _ level: Level, key: String, parameters: APIParameters) async throws -> ProjectVariable {
        let scope = level.hasScopes ? try Self.scopeFilter(parameters) : nil
        if scope == nil, level.hasScopes {
            let matching = try await variables.list(owner).filter { $0.key == key }
            if matching.count > 1 {
                throw APIError(.conflict, message: "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'")
            }
        }
        guard let variable = try await variables.find(owner, key: key, environmentScope: scope) else { throw APIError.notFound("Variable") }
        return variable
    }

    func list(_ level: Level, _ request: Request, context: AppRequestContext) async throws -> Response {
        let owner = try await owner(level, context)
        let parameters = try await APIParameters.read(request, context: context)
        let pageRequest = try PageRequest(parameters)
        let all = try await variables.list(owner)
        let items = all.dropFirst(pageRequest.offset).prefix(pageRequest.perPage).map { VariableEntity($0, level: level) }
        return try Page(items: Array(items), total: all.count, request: pageRequest).response(for: request, baseURL: baseURL)
    }

    func show(_ level: Level, _ request: Request, context: AppRequestContext) async throws -> Response {
        let owner = try await owner(level, context)
        let parameters = try await APIParameters.read(request, context: context)
        return try JSON.response(VariableEntity(try await existing(owner, level, key: try context.parameters.require("key"), parameters: parameters), level: level))
    }

    /// Longest value GitLab keeps (its instance variables' limit, applied to every level here: a variable is no file store).
    static let maximumValueLength = 10_000

    /// Reads and validates a variable from the parameters, starting from `existing` for updates.
    private func variable(_ parameters: APIParameters, level: Level, key: String, existing: ProjectVariable?) throws -> ProjectVariable {
        var variable = existing ?? ProjectVariable(key: key, value: "")
        if let value = try parameters.string("value") { variable.value = value } else if existing == nil { throw APIError.missing("value") }
        if let type = try parameters.string("variable_type") {
            guard ["env_var", "file"].contains(type) else { throw APIError(.badRequest, error: "variable_type does not have a valid value") }
            variable.variableType = type
        }
        if let masked = try parameters.bool("masked") {
            // GitLab: "The visibility setting cannot be changed for masked and hidden variables."
            guard !variable.hidden || masked else {
                throw APIError.validation(["masked": ["The visibility setting cannot be changed for masked and hidden variables."]])
            }
            variable.masked = masked
        }
        // Only at creation, as GitLab's API: `masked_and_hidden` makes the variable masked and its value unreadable from then on.
        if existing == nil, level.hasScopes, try parameters.bool("masked_and_hidden") == true {
            variable.masked = true
            variable.hidden = true
        }
        if let isProtected = try parameters.bool("protected") { variable.protected = isProtected }
        if let raw = try parameters.bool("raw") { variable.raw = raw }
        if let scope = try parameters.string("environment_scope"), !scope.isEmpty {
            guard level.hasScopes else { throw APIError(.badRequest, error: "environment_scope does not exist for instance variables") }
            variable.environmentScope = scope
        }
        if let description = try parameters.string("description") { variable.description = description }
        var problems: [String: [String]] = [:]
        if !CIVariableName.isValid(variable.key) { problems["key", default: []].append("can contain only letters, digits and '_'.") }
        if variable.value.count > Self.maximumValueLength {
            problems["value", default: []].append("is too long (maximum is \(Self.maximumValueLength) characters)")
        }
        if variable.masked, let problem = ProjectVariable.maskingProblem(variable.value) { problems["value", default: []].append(problem) }
        if !EnvironmentScope.isValid(variable.environmentScope) {
            problems["environment_scope", default: []].append("can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', '*' and spaces, at most 255 characters")
        }
        if let description = variable.description, description.count > 255 {
            problems["description", default: []].append("is too long (maximum is 255 characters)")
        }
        guard problems.isEmpty else { throw APIError.validation(problems) }
        return variable
    }

    func create(_ level: Level, _ request: Request, context: AppRequestContext) async throws -> Response {
        let owner = try await owner(level, context)
        let parameters = try await APIParameters.read(request, context: context)
        let key = try parameters.requireString("key")
        let variable = try variable(parameters, level: level, key: key, existing: nil)
        do {
            try await variables.create(owner, variable)
        } catch StoreError.duplicate {
            throw APIError.validation(["key": ["(\(key)) has already been taken"]])
        }
        return try JSON.response(VariableEntity(variable, level: level), status: .created)
    }

    func update(_ level: Level, _ request: Request, context: AppRequestContext) async throws -> Response {
        let owner = try await owner(level, context)
        let key = try context.parameters.require("key")
        let parameters = try await APIParameters.read(request, context: context)
        let existing = try await existing(owner, level, key: key, parameters: parameters)
        let variable = try variable(parameters, level: level, key: key, existing: existing)
        do {
            try await variables.update(owner, key: key, environmentScope: existing.environmentScope, to: variable)
        } catch StoreError.duplicate {
            throw APIError.validation(["key": ["(\(key)) has already been taken"]])
        }
        return try JSON.response(VariableEntity(variable, level: level))
    }

    func delete(_ level: Level, _ request: Request, context: AppRequestContext) async throws -> Response {
        let owner = try await owner(level, context)
        let key = try context.parameters.require("key")
        let parameters = try await APIParameters.read(request, context: context)
        let existing = try await existing(owner, level, key: key, parameters: parameters)
        try await variables.delete(owner, key: key, environmentScope: existing.environmentScope)
        return JSON.empty()
    }
}
