import Testing

@testable import LatchkeyCore

@Suite("Git ref names from outside")
struct GitRefNameTests {
    @Test("full ref names git check-ref-format accepts", arguments: ["refs/heads/main", "refs/heads/feature/x", "refs/tags/v1.0.0", "refs/tags/été", "refs/heads/a@b", "refs/heads/-x", "refs/tags/v1.0@"])
    func valid(_ name: String) {
        #expect(GitRefName.isValid(name))
    }

    @Test(
        "names git check-ref-format refuses",
        arguments: [
            "", "@", "refs/heads/a..b", "refs/heads/a^", "refs/heads/a~1", "refs/heads/a@{1}", "refs/heads/a:b", "refs/heads/a b", "refs/heads/a\\b",
            "refs/heads/a\0b", "refs/heads/.a", "refs/heads/a/.b", "refs/heads/a.lock", "refs/heads/a.lock/b", "refs/heads/a/", "/refs/heads/a",
            "refs//heads/a", "refs/heads/a.", "refs/heads/a*", "refs/heads/a?", "refs/heads/a[", "refs/heads/\u{7F}", "refs/heads/\t",
            "refs/heads/" + String(repeating: "x", count: 300),
        ]
    )
    func invalid(_ name: String) {
        #expect(!GitRefName.isValid(name))
    }

    @Test("a tag name is a valid refs/tags/<name> that is no option, no revision expression and not itself a full ref")
    func tags() {
        #expect(GitRefName.isValidTagName("v1.0.0"))
        #expect(GitRefName.isValidTagName("release/2026"))
        // Only the whole ref `@` is refused by git; `refs/tags/@` is a tag like any other.
        #expect(GitRefName.isValidTagName("@"))
        for name in ["-x", "--upload-pack=x", "refs/tags/v1", "a..b", "a b", ".x", "x.lock", "x/", ""] {
            #expect(!GitRefName.isValidTagName(name), "\(name)")
        }
    }

    @Test("a safe argument can be neither an option nor a revision expression")
    func arguments() {
        #expect(GitRefName.isSafeArgument("main"))
        #expect(GitRefName.isSafeArgument("0123456789abcdef0123456789abcdef01234567"))
        for ref in ["", "-x", "a..b", "a:b", "a b", "a\0b", "a^", "a~1", "a@{1}", "a\\b", String(repeating: "x", count: 256)] {
            #expect(!GitRefName.isSafeArgument(ref), "\(ref)")
        }
    }
}
