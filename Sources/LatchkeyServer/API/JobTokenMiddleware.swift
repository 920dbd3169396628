import Hummingbird
import LatchkeyCore

/// On routes that accept a CI/CD job token: a running job's token becomes a `.job` actor (a personal token still wins).
struct JobTokenMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authenticator: Authenticator

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if case .anonymous = context.actor {
            do throws(Authenticator.Failure) {
                context.actor = try await authenticator.actor(for: request, sources: .jobToken)
            } catch {
                throw error.routeError
            }
        }
        return try await next(request, context)
    }
}
