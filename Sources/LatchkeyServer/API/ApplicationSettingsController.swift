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

    private func requireAdmin(_ context: AppRequestContext) throws {
        try environment.authorizer.authorizeInstanceAdministration(context.actor)
    }

    private func current() async throws -> Response {
        let enforced = try await environment.store.settings.value(JobTokenScopeRepository.enforcementSetting) == "true"
        return try JSON.response(["enforce_ci_inbound_job_token_scope_enabled": enforced])
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        try requireAdmin(context)
        return try await current()
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        try requireAdmin(context)
        let parameters = try await APIParameters.read(request, context: context)
        if let enforced = try parameters.bool("enforce_ci_inbound_job_token_scope_enabled") {
            try await environment.store.settings.set(JobTokenScopeRepository.enforcementSetting, to: enforced ? "true" : "false")
        }
        return try await current()
    }
}
