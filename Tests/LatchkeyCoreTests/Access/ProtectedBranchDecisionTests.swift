import Foundation
import Testing

@testable import LatchkeyCore

/// Protected branch patterns and the branch-change checks against GitLab's tables (`Gitlab::Checks::BranchCheck`, `ProtectedRefAccess`).
@Suite("Protected branch decisions")
struct ProtectedBranchDecisionTests {
    static func rule(_ name: String, push: ProtectedRefAccessLevel = .maintainer, merge: ProtectedRefAccessLevel = .maintainer, force: Bool = false)
        -> ProtectedBranch
    {
        ProtectedBranch(
            id: 1, projectID: 11, name: name, pushAccessLevel: push, mergeAccessLevel: merge, allowForcePush: force, createdAt: Date(timeIntervalSince1970: 0))
    }

    static func facts(_ level: AccessLevel?) -> ProjectAccessFacts {
        ProjectAccessFacts(project: AccessPolicyTests.project(.private), memberLevel: level)
    }

    static func actor(admin: Bool = false, blocked: Bool = false) -> Actor {
        var user = AccessPolicyTests.user
        user.isAdmin = admin
        user.isBlocked = blocked
        return .user(UserActor(user: user, scopes: nil))
    }

    @Test("wildcards stand for any run of characters, slashes included, and nothing else is special", arguments: [
        ("main", "main", true), ("main", "main2", false), ("*-stable", "1-stable", true), ("*-stable", "-stable", true),
        ("*-stable", "1-stable-x", false), ("release/*", "release/1/2", true), ("release/*", "release", false), ("*", "anything/at/all", true),
        ("a*b*c", "abc", true), ("a*b*c", "aXbYbZc", true), ("a*b*c", "acb", false), ("feat.x", "featYx", false), ("**", "", true),
    ])
    func wildcard(pattern: String, branch: String, matches: Bool) {
        #expect(Self.rule(pattern).matches(branch) == matches)
    }

    @Test("a hostile pattern is matched in linear time")
    func hostilePattern() {
        let pattern = String(repeating: "*a", count: 100) + "b"
        let text = String(repeating: "a", count: 10_000)
        #expect(!Self.rule(pattern).matches(text))
    }

    @Test("names that git refuses or a shell would read as a glob are invalid", arguments: [
        "", "-x", "/x", "x/", "x.lock", "a..b", "a b", "a?b", "a[b", "a\\b", "a:b", "a^b", "a~b", "a@{b", ".x", "x/.y", "a\u{7}b",
        String(repeating: "x", count: 256),
    ])
    func invalidNames(name: String) {
        #expect(!ProtectedBranch.isValidName(name))
    }

    @Test("ordinary names and patterns are valid", arguments: ["main", "release/*", "*-stable", "feature/x.y", "v1.2"])
    func validNames(name: String) {
        #expect(ProtectedBranch.isValidName(name))
    }

    @Test("access levels admit members at or above them; No one nobody; Administrators only administrators")
    func levels() {
        let table: [(ProtectedRefAccessLevel, AccessLevel?, Bool, Bool)] = [
            (.developer, .developer, false, true), (.developer, .reporter, false, false), (.maintainer, .developer, false, false),
            (.maintainer, .maintainer, false, true), (.maintainer, .owner, false, true), (.noOne, .owner, false, false), (.noOne, nil, true, false),
            (.admin, .owner, false, false), (.admin, nil, true, true), (.maintainer, nil, true, false),
        ]
        for (level, member, admin, expected) in table {
            #expect(AccessPolicy.admits(level, Self.actor(admin: admin), on: Self.facts(member)) == expected, "\(level) \(String(describing: member)) admin \(admin)")
        }
        #expect(!AccessPolicy.admits(.developer, Self.actor(blocked: true), on: Self.facts(.owner)))
        #expect(!AccessPolicy.admits(.developer, .anonymous, on: Self.facts(nil)))
    }

    @Test("each change to a protected branch is refused with GitLab's words")
    func changes() {
        let rules = ProtectedBranches([Self.rule("main", push: .developer), Self.rule("release/*", push: .maintainer, merge: .developer)])
        let developer = Self.facts(.developer)
        let maintainer = Self.facts(.maintainer)
        func check(_ change: BranchChange, _ branch: String, _ facts: ProjectAccessFacts, _ origin: BranchChangeOrigin = .push) -> BranchChangeRefusal? {
            AccessPolicy.checkBranchChange(Self.actor(), change, branch: branch, origin: origin, rules: rules, on: facts)
        }
        #expect(check(.update(forced: false), "main", developer) == nil)
        #expect(check(.update(forced: true), "main", developer) == .forcePushToProtected)
        #expect(check(.update(forced: false), "release/1", developer) == .pushToProtected)
        #expect(check(.update(forced: false), "release/1", maintainer) == nil)
        // Merging is enough to create the branch.
        #expect(check(.create, "release/2", developer) == nil)
        #expect(check(.create, "release/2", Self.facts(.reporter)) == .createProtected)
        #expect(check(.delete, "release/1", developer) == .deleteProtected)
        #expect(check(.delete, "release/1", maintainer) == .deleteProtectedOverPush)
        #expect(check(.delete, "release/1", maintainer, .api) == nil)
        #expect(check(.delete, "main", maintainer, .api) == .deleteDefault)
        #expect(check(.update(forced: true), "feature", developer) == nil)
        #expect(check(.delete, "feature", developer) == nil)
        #expect(BranchChangeRefusal.pushToProtected.message == "You are not allowed to push code to protected branches on this project.")
    }

    @Test("force push needs every matching rule to allow it, and a ref is protected when any rule covers it")
    func forcePushAndProtection() {
        let rules = ProtectedBranches([Self.rule("release/*", force: true), Self.rule("release/1", force: false)])
        #expect(rules.allowsForcePush("release/2"))
        #expect(!rules.allowsForcePush("release/1"))
        #expect(rules.protects("release/1") && !rules.protects("main"))
        #expect(ProtectedBranches([Self.rule("x", push: .noOne, merge: .developer)]).leastLevelToPushOrMerge("x") == .developer)
        #expect(ProtectedBranches([Self.rule("x", push: .noOne, merge: .admin)]).leastLevelToPushOrMerge("x") == nil)
    }
}
