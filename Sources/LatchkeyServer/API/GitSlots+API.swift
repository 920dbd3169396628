import Hummingbird
import LatchkeyCore

extension GitSlots {
    /// A slot for the request's credential, or GitLab's 429 with `Retry-After` when none freed in time; `what` names the
    /// operation in the message ("archives", "commits").
    func acquire(for actor: Actor, context: AppRequestContext, what: String) async throws -> Slot {
        guard let slot = await acquire(Self.key(for: actor, address: context.remoteAddress?.ipAddress)) else {
            var error = APIError(.tooManyRequests, message: "429 Too many \(what) at once with these credentials (at most \(limit)); retry later")
            error.headers[.retryAfter] = "\(max(1, wait.components.seconds))"
            throw error
        }
        return slot
    }
}
