import Foundation

/// Why a `cron` value was rejected; `message` names the offending field or token.
public struct CronExpressionError: Error, Sendable, Equatable {
    // GitLab's API answers every cron failure with `{"cron": ["syntax is invalid"]}`; the detail here is for logs
    // and for our own UI, and the HTTP error mapper decides which wording clients see.
    public var message: String

    init(_ message: String) {
        self.message = message
    }
}
