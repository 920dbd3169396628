import Foundation

/// Why a web page cannot be shown; each case becomes one kind of answer in `WebMiddleware`.
enum WebError: Error {
    /// The page does not exist, or the visitor may not know it does (GitLab answers 404 for both).
    case notFound
    /// A signed-out visitor asked for a page that needs a session; carries where to go back to.
    case signInRequired(returnTo: String)
    /// A form came without this session's CSRF token.
    case forgedRequest
}
