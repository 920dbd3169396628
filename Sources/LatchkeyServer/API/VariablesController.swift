import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/variables`: project CI/CD variables (Maintainer).
struct VariablesController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/variables", use: list)
        routes.post("projects/:id/variables", use: create)
        routes.get("projects/:id/variables/:key", use: show)
        routes.put("projects/:id/variables/:key", use: update)
        routes.delete("projects/:id/variables/:key", use: delete)
        return routes
    }

    struct VariableEntity: Encodable {
        var key: String
        // GitLab 17.4+: a hidden variable's value is `null` in every answer, creation included.
        @Nullable var value: String?
        var variableType: String
        var `protected`: Bool
        var masked: Bool
        var hidden = false
        var raw: Bool
        var environmentScope: String
        @Nullable var description: String?

        init(_ variable: ProjectVariable) {
            key = variable.key
            value = variable.hidden ? nil : variable.value
            hidden = variable.hidden
            variableType = variable.variableType
            self.protected = variable.protected
            masked = variable.masked
            raw = variable.raw
            environmentScope = variable.environmentScope
            description = variable.description
        }
    }

    private func project(_ context: AppRequestContext) async throws -> Project {
        try await environment.authorizer.project(try context.parameters.require("id"), .adminVariables, actor: context.actor).project
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let parameters = try await APIParameters.read(request, context: context)
        let variables = try await environment.store.variables.list(projectID: project.id).map(VariableEntity.init)
        let pageRequest = try PageRequest(parameters)
        let items = Array(variables.dropFirst(pageRequest.offset).prefix(pageRequest.perPage))
        return try Page(items: items, total: variables.count, request: pageRequest).response(for: request, baseURL: environment.settings.baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let key = try context.parameters.require("key")
        guard let variable = try await environment.store.variables.find(projectID: project.id, key: key) else { throw APIError.notFound("Variable") }
        return try JSON.response(VariableEntity(variable))
    }

    /// Reads and validates a variable from the parameters, starting from `existing` for updates.
    private func variable(_ parameters: APIParameters, key: String, existing: ProjectVariable?) throws -> ProjectVariable {
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
        if existing == nil, try parameters.bool("masked_and_hidden") == true {
            variable.masked = true
            variable.hidden = true
        }
        if let isProtected = try parameters.bool("protected") { variable.protected = isProtected }
        if let raw = try parameters.bool("raw") { variable.raw = raw }
        if let scope = try parameters.string("environment_scope"), !scope.isEmpty { variable.environmentScope = scope }
        if let description = try parameters.string("description") { variable.description = description }
        var problems: [String: [String]] = [:]
        if !CIVariableName.isValid(variable.key) { problems["key", default: []].append("can contain only letters, digits and '_'.") }
        if variable.masked, let problem = ProjectVariable.maskingProblem(variable.value) { problems["value", default: []].append(problem) }
        guard problems.isEmpty else { throw APIError.validation(problems) }
        return variable
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let parameters = try await APIParameters.read(request, context: context)
        let key = try parameters.requireString("key")
        let variable = try variable(parameters, key: key, existing: nil)
        do {
            try await environment.store.variables.create(projectID: project.id, variable)
        } catch StoreError.duplicate {
            throw APIError.validation(["key": ["(\(key)) has already been taken"]])
        }
        return try JSON.response(VariableEntity(variable), status: .created)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let key = try context.parameters.require("key")
        let parameters = try await APIParameters.read(request, context: context)
        guard let existing = try await environment.store.variables.find(projectID: project.id, key: key) else { throw APIError.notFound("Variable") }
        let variable = try variable(parameters, key: key, existing: existing)
        try await environment.store.variables.update(projectID: project.id, key: key, environmentScope: existing.environmentScope, to: variable)
        return try JSON.response(VariableEntity(variable))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let key = try context.parameters.require("key")
        guard let existing = try await environment.store.variables.find(projectID: project.id, key: key) else { throw APIError.notFound("Variable") }
        try await environment.store.variables.delete(projectID: project.id, key: key, environmentScope: existing.environmentScope)
        return JSON.empty()
    }
}
