import Foundation
import LatchkeyCore

/// The line a job's trace starts with when its token is narrowed: what the token may use, and what `permissions:` asked above a
/// ceiling and got lowered to (the YAML cannot raise a ceiling, so the job learns at once why a later call is refused).
enum JobTokenPermissionsNotice {
    /// Nil when nothing narrows the token (no `permissions:`, no ceiling): such a job's trace is as GitLab's.
    static func line(_ facts: JobTokenPermissionFacts) -> String? {
        guard facts.isRestricted else { return nil }
        var text = "Latchkey: this job's token may use: \(facts.effective)"
        for clamp in facts.clamped {
            text += "; permissions: asked for \(clamp.asked), clamped to \(clamp.asked.resource.rawValue): \(clamp.granted.rawValue) by \(clamp.by.title)"
        }
        return "\u{1B}[33;1m\(text).\u{1B}[0;m\n"
    }
}
