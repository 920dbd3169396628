import Foundation
import LatchkeyCore
import LatchkeyStore

/// Where a token may leak: the surfaces whose content is scanned before it is kept.
enum LeakSurface: String, Sendable {
    case gitPush = "git push"
    case genericPackage = "generic package upload"
    case release = "release"
    case artifact = "job artifact's metadata"
    case commit = "commit made through the API"
    case pipelineName = "pipeline name"
}

/// The automatic kill switch: revokes every live job token and personal access token among the candidates found in content
/// someone is about to store, so a token that leaked into a push, a package, a release or an artifact's metadata dies at once.
///
/// Candidates are looked up by keyed digest through the same lookups authentication uses, so only a token that would be
/// accepted right now counts; an expired, revoked or finished job's token is like any other string. The answer to the sender
/// never says whose token it was, what it could reach or which job it belonged to: the only thing a stranger can learn is that
/// a string they wrote themselves was a live token, and by then it is dead.
struct LeakedTokenGuard {
    let environment: ServerEnvironment

    /// Looks up every candidate; revokes the live ones on behalf of `authorID`, who put them into `project` through `surface`, and
    /// answers their indices. When `overflowed`, the scanner kept only some of the candidates it saw (logged).
    func revokeLive(_ candidates: [String], overflowed: Bool = false, surface: LeakSurface, project: Project, authorID: Int64?) async throws -> [Int] {
        if overflowed {
            environment.logger.warning(
                "more token-like strings than are looked up; the rest were not checked", metadata: ["project": "\(project.fullPath)", "surface": "\(surface.rawValue)"])
        }
        var revoked: [Int] = []
        let authenticator = Authenticator(environment: environment)
        for (index, candidate) in candidates.enumerated() {
            switch TokenKind.of(candidate) {
            case .jobToken?:
                guard let job = try await authenticator.acceptedJob(candidate) else { continue }
                revoked.append(index)
                _ = try await environment.revokeJobToken(
                    job.job, project: job.project, reason: "this job's token appeared in a \(surface.rawValue) and was revoked (leak detection)",
                    authorID: authorID, details: ["by": "leak detection", "surface": surface.rawValue])
                try await recordLeak(kind: "job token", surface: surface, project: project, authorID: authorID)
            case .personalAccess?:
                guard let (token, user) = try await authenticator.livePersonalToken(candidate) else { continue }
                revoked.append(index)
                _ = try await environment.store.personalAccessTokens.revoke(id: token.id)
                try await environment.store.auditEvents.record(
                    entityType: "User", entityID: user.id, authorID: authorID, eventName: "personal_access_token_revoked",
                    details: ["token_id": "\(token.id)", "by": "leak detection", "surface": surface.rawValue])
                environment.logger.notice("personal access token revoked: it leaked", metadata: ["token": "\(token.id)", "surface": "\(surface.rawValue)"])
                try await recordLeak(kind: "personal access token", surface: surface, project: project, authorID: authorID)
            default:
                continue
            }
        }
        return revoked
    }

    /// The audit event on the project the content was going to: what kind of token, never which.
    private func recordLeak(kind: String, surface: LeakSurface, project: Project, authorID: Int64?) async throws {
        try await environment.store.auditEvents.record(
            entityID: project.id, authorID: authorID, eventName: "leaked_token_revoked", details: ["kind": kind, "surface": surface.rawValue])
    }

    /// `check`, with a refusal rendered as the REST answer: 400 with a message that names the surface and never the token.
    func refuseLeaks(_ scanner: TokenCandidateScanner, surface: LeakSurface, project: Project, authorID: Int64?) async throws {
        let live = try await revokeLive(scanner.candidates, overflowed: scanner.overflowed, surface: surface, project: project, authorID: authorID)
        if !live.isEmpty { throw APIError(.badRequest, message: "400 Bad request - \(Self.refusalMessage(surface))") }
    }

    /// `refuseLeaks` over short texts (a release's description, a link's URL, a file name), each its own document.
    func refuseLeaks(in texts: [String?], surface: LeakSurface, project: Project, authorID: Int64?) async throws {
        var scanner = TokenCandidateScanner()
        for text in texts.compactMap({ $0 }) {
            scanner.scan(text.utf8)
            scanner.endDocument()
        }
        try await refuseLeaks(scanner, surface: surface, project: project, authorID: authorID)
    }

    /// The bytes of one upload scanned at most: past it the rest is kept unscanned, so a huge upload costs bounded work.
    static let scanBudget = 128 << 20

    /// The refusal's text, the same whatever token it was.
    static func refusalMessage(_ surface: LeakSurface) -> String {
        "the \(surface.rawValue) contains a live access token, which has been revoked; remove it and try again with a new token"
    }
}

extension Authenticator {
    /// The personal access token and its user when `value` is one that would authenticate now (not revoked, not expired, user
    /// not blocked); unlike signing in with it, nothing is recorded.
    func livePersonalToken(_ value: String) async throws -> (PersonalAccessToken, User)? {
        guard TokenKind.of(value) == .personalAccess, value.utf8.count < 512 else { return nil }
        guard let (token, user) = try await environment.store.personalAccessTokens.find(digest: environment.digester.digest(value)), token.isActive(),
            !user.isBlocked
        else { return nil }
        return (token, user)
    }
}
