import Foundation
import Testing

@testable import LatchkeyCore

/// Who may read, revoke and rotate which personal access tokens, against tables written from GitLab's token API and policies.
@Suite("Personal access token decisions")
struct PersonalAccessTokenDecisionTests {
    static let me: Int64 = 7
    static let someoneElse: Int64 = 8

    static func actor(admin: Bool, blocked: Bool = false, scopes: Set<TokenScope>? = [.api], tokenID: Int64? = 1) -> Actor {
        .user(
            UserActor(
                user: User(id: me, username: "u", name: "U", email: "u@example.com", isAdmin: admin, isBlocked: blocked, createdAt: Date(timeIntervalSince1970: 0)),
                scopes: scopes, tokenID: tokenID))
    }

    static let scopeSets: [Set<TokenScope>?] = [[.api], [.readAPI], [.readRepository], [.selfRotate]]

    @Test("users act on their own tokens, administrators on anyone's; only administrators learn a token is missing; scopes bound it")
    func decisionTable() {
        var checked = 0
        for ability in PersonalAccessTokenAbility.allCases {
            for admin in [false, true] {
                for blocked in [false, true] {
                    for scopes in Self.scopeSets {
                        for owner in [Self.me, Self.someoneElse, nil] as [Int64?] {
                            let write = ability == .manage
                            let expected: Decision =
                                if blocked { .denied(.blocked) }
                                else if let scopes, !(scopes.contains(.api) || (!write && scopes.contains(.readAPI))) {
                                    .denied(.insufficientScope(required: write ? .api : .readAPI))
                                }
                                else if admin { owner == nil ? .denied(.notFound) : .allowed }
                                else if owner == Self.me { .allowed }
                                else { .denied(.insufficientRole(required: .owner, actual: nil)) }
                            let actual = AccessPolicy.decide(Self.actor(admin: admin, blocked: blocked, scopes: scopes), ability, tokenOwner: owner)
                            #expect(actual == expected, "\(ability) admin \(admin) blocked \(blocked) scopes \(String(describing: scopes)) owner \(String(describing: owner))")
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked == 2 * 2 * 2 * 4 * 3)
    }

    @Test("anonymous callers and job tokens are unauthenticated on token routes")
    func noUser() {
        for ability in PersonalAccessTokenAbility.allCases {
            #expect(AccessPolicy.decide(.anonymous, ability, tokenOwner: Self.me) == .denied(.unauthenticated))
        }
        #expect(AccessPolicy.mayListPersonalAccessTokens(.anonymous, of: nil) == .denied(.unauthenticated))
    }

    @Test("a user lists only their own tokens; an administrator anyone's")
    func listing() {
        #expect(AccessPolicy.mayListPersonalAccessTokens(Self.actor(admin: false), of: nil) == .allowed)
        #expect(AccessPolicy.mayListPersonalAccessTokens(Self.actor(admin: false), of: Self.me) == .allowed)
        #expect(AccessPolicy.mayListPersonalAccessTokens(Self.actor(admin: false), of: Self.someoneElse) == .denied(.insufficientRole(required: .owner, actual: nil)))
        #expect(AccessPolicy.mayListPersonalAccessTokens(Self.actor(admin: true), of: Self.someoneElse) == .allowed)
        #expect(AccessPolicy.mayListPersonalAccessTokens(Self.actor(admin: false, scopes: [.readRepository]), of: nil) == .denied(.insufficientScope(required: .readAPI)))
        #expect(AccessPolicy.mayListPersonalAccessTokens(Self.actor(admin: false, blocked: true), of: nil) == .denied(.blocked))
    }

    @Test("any scope reads and revokes its own token; rotation needs api or self_rotate; a password has no token to act on")
    func ownToken() {
        for scopes in Self.scopeSets {
            guard case .user(let user) = Self.actor(admin: false, scopes: scopes) else { continue }
            #expect(AccessPolicy.mayUseOwnToken(user, rotate: false) == .allowed)
            let rotates = scopes!.contains(.api) || scopes!.contains(.selfRotate)
            #expect(AccessPolicy.mayUseOwnToken(user, rotate: true) == (rotates ? .allowed : .denied(.insufficientScope(required: .selfRotate))))
        }
        guard case .user(let password) = Self.actor(admin: false, scopes: nil, tokenID: nil),
            case .user(let blocked) = Self.actor(admin: false, blocked: true)
        else { return }
        #expect(AccessPolicy.mayUseOwnToken(password, rotate: false) == .denied(.unauthenticated))
        #expect(AccessPolicy.mayUseOwnToken(blocked, rotate: false) == .denied(.blocked))
    }
}
