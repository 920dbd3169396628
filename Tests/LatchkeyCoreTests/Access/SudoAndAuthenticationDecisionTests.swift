import Foundation
import Testing

@testable import LatchkeyCore

/// `Sudo`, authenticated-only routes and which refusals may name their target, against tables written from GitLab's `sudo!`.
@Suite("Sudo and authentication decisions")
struct SudoAndAuthenticationDecisionTests {
    static func user(admin: Bool, blocked: Bool = false) -> User {
        User(id: 7, username: "u", name: "U", email: "u@example.com", isAdmin: admin, isBlocked: blocked, createdAt: Date(timeIntervalSince1970: 0))
    }

    static let scopeSets: [Set<TokenScope>?] = [nil, [.api], [.sudo], [.api, .sudo], [.readAPI, .sudo], [.api, .adminMode]]

    @Test("sudo is allowed exactly for an unblocked administrator's personal access token with the sudo scope")
    func sudoTable() {
        var checked = 0
        for admin in [false, true] {
            for blocked in [false, true] {
                for scopes in Self.scopeSets {
                    let actor = Actor.user(UserActor(user: Self.user(admin: admin, blocked: blocked), scopes: scopes))
                    let expected: Decision =
                        if blocked { .denied(.blocked) }
                        else if !admin || scopes == nil { .denied(.insufficientRole(required: .owner, actual: nil)) }
                        else if scopes?.contains(.sudo) != true { .denied(.insufficientScope(required: .sudo)) }
                        else { .allowed }
                    #expect(AccessPolicy.maySudo(actor) == expected, "admin \(admin), blocked \(blocked), scopes \(String(describing: scopes))")
                    checked += 1
                }
            }
        }
        #expect(checked == 24)
        #expect(AccessPolicy.maySudo(.anonymous) == .denied(.unauthenticated))
    }

    @Test("authenticated-only routes refuse only the anonymous actor, and only where they apply")
    func authenticatedOnly() {
        let signedIn = Actor.user(UserActor(user: Self.user(admin: false), scopes: [.readAPI]))
        #expect(AccessPolicy.mayCall(.anonymous, authenticatedOnly: true) == .denied(.unauthenticated))
        #expect(AccessPolicy.mayCall(.anonymous, authenticatedOnly: false) == .allowed)
        #expect(AccessPolicy.mayCall(signedIn, authenticatedOnly: true) == .allowed)
    }

    @Test("only refusals made after the target was found visible may name it")
    func targetVisibility() {
        let hiding: [Denial] = [.notFound, .unauthenticated, .blocked, .jobNotRunning]
        let naming: [Denial] = [
            .insufficientRole(required: .developer, actual: .reporter), .insufficientScope(required: .api), .jobTokenScope(source: "a", target: "b"),
            .jobTokenOutboundScope(source: "a", target: "b"), .jobTokenPolicyMissing(.readJobs), .notAJobTokenAbility(.adminProject),
        ]
        for denial in hiding { #expect(!denial.targetIsVisible, "\(denial)") }
        for denial in naming { #expect(denial.targetIsVisible, "\(denial)") }
    }
}
