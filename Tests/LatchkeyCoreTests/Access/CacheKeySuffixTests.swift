import Testing

@testable import LatchkeyCore

@Suite("Separated caches")
struct CacheKeySuffixTests {
    @Test(
        "protected refs and Maintainers use the protected cache; unprotect: true and everyone else the unprotected one",
        arguments: [
            (false, false, AccessLevel?.none, "non_protected"),
            (false, false, .developer, "non_protected"),
            (false, false, .maintainer, "protected"),
            (false, false, .owner, "protected"),
            (false, true, .developer, "protected"),
            (false, true, nil, "protected"),
            (true, true, .owner, "non_protected"),
            (true, false, .developer, "non_protected"),
        ])
    func suffix(unprotect: Bool, refProtected: Bool, level: AccessLevel?, expected: String) {
        #expect(AccessPolicy.cacheKeySuffix(unprotect: unprotect, refProtected: refProtected, memberLevel: level) == expected)
    }
}
