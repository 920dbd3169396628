import Foundation
import Testing

@testable import LatchkeyCore

/// Tag changes against GitLab's `Gitlab::Checks::TagCheck`: no one moves a protected tag, only Maintainers delete one (never by a
/// push), and only the rule's level creates one.
@Suite("Protected tag decisions")
struct ProtectedTagDecisionTests {
    static func rules(_ pairs: (String, ProtectedRefAccessLevel)...) -> ProtectedTags {
        ProtectedTags(pairs.enumerated().map { ProtectedTag(id: Int64($0.offset + 1), projectID: 11, name: $0.element.0, createAccessLevel: $0.element.1, createdAt: Date()) })
    }

    static func facts(_ level: AccessLevel?) -> ProjectAccessFacts { ProtectedBranchDecisionTests.facts(level) }
    static func actor(admin: Bool = false, blocked: Bool = false) -> Actor { ProtectedBranchDecisionTests.actor(admin: admin, blocked: blocked) }

    @Test("creating a protected tag takes the rule's level; any matching rule that admits the actor is enough")
    func create() {
        let rules = Self.rules(("v*", .maintainer), ("v1.*", .developer))
        #expect(AccessPolicy.checkTagChange(Self.actor(), .create, tag: "v2.0", origin: .push, rules: rules, on: Self.facts(.developer)) == .createProtected)
        #expect(AccessPolicy.checkTagChange(Self.actor(), .create, tag: "v1.0", origin: .push, rules: rules, on: Self.facts(.developer)) == nil)
        #expect(AccessPolicy.checkTagChange(Self.actor(), .create, tag: "v2.0", origin: .api, rules: rules, on: Self.facts(.maintainer)) == nil)
        #expect(AccessPolicy.checkTagChange(Self.actor(), .create, tag: "other", origin: .push, rules: rules, on: Self.facts(.developer)) == nil)
        let noOne = Self.rules(("locked", .noOne))
        #expect(AccessPolicy.checkTagChange(Self.actor(), .create, tag: "locked", origin: .api, rules: noOne, on: Self.facts(.owner)) == .createProtected)
        #expect(AccessPolicy.checkTagChange(Self.actor(blocked: true), .create, tag: "v1.0", origin: .push, rules: rules, on: Self.facts(.maintainer)) == .createProtected)
    }

    @Test("a protected tag is never moved, even by an Owner; unprotected tags are")
    func update() {
        let rules = Self.rules(("v*", .developer))
        #expect(AccessPolicy.checkTagChange(Self.actor(admin: true), .update, tag: "v1", origin: .push, rules: rules, on: Self.facts(.owner)) == .updateProtected)
        #expect(AccessPolicy.checkTagChange(Self.actor(), .update, tag: "x1", origin: .push, rules: rules, on: Self.facts(.developer)) == nil)
    }

    @Test("deleting a protected tag takes a Maintainer, and the API rather than a push")
    func delete() {
        let rules = Self.rules(("v*", .developer))
        #expect(AccessPolicy.checkTagChange(Self.actor(), .delete, tag: "v1", origin: .api, rules: rules, on: Self.facts(.developer)) == .deleteProtected)
        #expect(AccessPolicy.checkTagChange(Self.actor(), .delete, tag: "v1", origin: .push, rules: rules, on: Self.facts(.maintainer)) == .deleteProtectedOverPush)
        #expect(AccessPolicy.checkTagChange(Self.actor(), .delete, tag: "v1", origin: .api, rules: rules, on: Self.facts(.maintainer)) == nil)
    }

    @Test("exact names match byte for byte: a canonically equivalent spelling (NFD for NFC) is another ref, as git and the hook see it")
    func unicodeEquivalents() {
        let nfc = "release-\u{E9}", nfd = "release-e\u{301}"
        #expect(nfc == nfd)  // Swift's String equality, which the matchers must not use
        #expect(!Self.rules((nfc, .maintainer)).protects(nfd))
        #expect(Self.rules((nfc, .maintainer)).protects(nfc))
        let branch = ProtectedBranchDecisionTests.rule(nfc)
        #expect(!branch.matches(nfd) && branch.matches(nfc))
    }

    @Test("a tag named as the default branch is refused, protected or not")
    func defaultBranchCollision() {
        let facts = Self.facts(.maintainer)
        #expect(AccessPolicy.checkTagChange(Self.actor(), .create, tag: facts.project.defaultBranch, origin: .api, rules: Self.rules(), on: facts) == .defaultBranchCollision)
    }

    @Test("the least role that may create a protected tag is the least any matching rule admits; no one and administrators admit no member")
    func leastLevel() {
        let rules = Self.rules(("v*", .maintainer), ("v1*", .developer), ("locked", .noOne))
        #expect(rules.leastLevelToCreate("v1.0") == .developer)
        #expect(rules.leastLevelToCreate("v2.0") == .maintainer)
        #expect(rules.leastLevelToCreate("locked") == nil)
        #expect(!rules.protects("x"))
    }
}
