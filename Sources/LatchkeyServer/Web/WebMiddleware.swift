import Foundation
import Hummingbird
import NIOCore

/// Serves the web pages for whatever the API and git routes did not match (added last in `buildRouter`, it wraps only the
/// router's not-found answer): `/`, `/users/sign_in`, `/admin`, and `/<full_path>/-/...` at any depth.
struct WebMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: WebPages

    init(environment: ServerEnvironment, queue: JobQueue) {
        pages = WebPages(environment: environment, queue: queue)
    }

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // The API keeps GitLab's JSON 404 for unknown routes.
            guard !request.uri.path.hasPrefix("/api/") else { throw error }
            do {
                if let response = try await pages.respond(to: request, context: context) { return response }
            } catch is NIOTooManyBytesError {
                var headers = WebPages.securityHeaders
                headers[.contentType] = "text/html; charset=utf-8"
                let body = "<!doctype html><title>Request too large</title><h1>413 Request Entity Too Large</h1>"
                return Response(status: .contentTooLarge, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
            } catch {
                // Never echo the error: it may carry a path or a query with a secret in it.
                context.logger.error("web page failed", metadata: ["error.type": "\(type(of: error))", "path": "\(request.uri.path)"])
                var headers = WebPages.securityHeaders
                headers[.contentType] = "text/html; charset=utf-8"
                let body = "<!doctype html><title>Something went wrong</title><h1>500 Something went wrong</h1><p>Try again in a moment.</p>"
                return Response(status: .internalServerError, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            return try await pages.notFound(request, context: context)
        }
    }
}
