import HTTPTypes
import Hummingbird

/// Answers HEAD like GET without the body, as GitLab does on every route (Rack::Head).
///
/// The router generates a HEAD responder for every GET route (`.autoGenerateHeadEndpoints`); this middleware, outermost,
/// makes sure no answer to a HEAD carries a body, errors included, while keeping the GET's headers (Content-Length,
/// `X-Gitlab-*`, `X-Total`...).
struct HeadMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        guard request.method == .head else { return try await next(request, context) }
        do {
            return try await next(request, context).createHeadResponse()
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context).createHeadResponse()
        }
    }
}
