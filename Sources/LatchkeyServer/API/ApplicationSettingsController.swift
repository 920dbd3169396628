import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/application/settings` (administrators): the instance-wide switches Latchkey has.
struct ApplicationSettingsController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("application/settings", use: show)
        routes.put("application/settings", use: update)
        return routes
    }

    /// The settings as `/application/settings` shows them.
    struct Entity: Encodable {
        var enforceCiInboundJobTokenScopeEnabled: Bool
        /// Latchkey's: the ceiling over every job's `permissions:` (null: none).
        @Nullable var ciJobTokenPermissionsCeiling: [String: String]?
    }

    private func requireAdmin(_ context: AppRequestContext) throws {
        try environment.authorizer.authorizeInstanceAdministration(context.actor)
    }

    private func current() async throws -> Response {
        let enforced = try await environment.store.settings.value(JobTokenScopeRepository.enforcementSetting) == "true"
        let ceiling = try await environment.store.settings.jobTokenPermissionsCeiling()
        return try JSON.response(Entity(enforceCiInboundJobTokenScopeEnabled: enforced, ciJobTokenPermissionsCeiling: ceiling?.byName))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        try requireAdmin(context)
        return try await current()
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        try requireAdmin(context)
        let parameters = try await APIParameters.read(request, context: context)
        let ceiling = try parameters.jobTokenPermissions(SettingsRepository.jobTokenPermissionsCeilingKey)
        if let enforced = try parameters.bool("enforce_ci_inbound_job_token_scope_enabled") {
            try await environment.store.settings.set(JobTokenScopeRepository.enforcementSetting, to: enforced ? "true" : "false")
        }
        if let ceiling {
            try await environment.store.settings.setJobTokenPermissionsCeiling(ceiling)
        }
        return try await current()
    }
}
