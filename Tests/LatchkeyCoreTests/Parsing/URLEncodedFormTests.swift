import Testing

@testable import LatchkeyCore

@Suite("Decoding query strings and URL-encoded forms")
struct URLEncodedFormTests {
    func pairs(_ text: String) -> [String] { URLEncodedForm.decode(text).map { "\($0.name)=\($0.value)" } }

    @Test("+ is a space and %2B a plus, repeated names stay in order, a name without = has an empty value")
    func rack() {
        #expect(pairs("expire_in=1+week&name=a%2Bb&x=1&x=2&flag&empty=") == ["expire_in=1 week", "name=a+b", "x=1", "x=2", "flag=", "empty="])
        #expect(pairs("scope%5B%5D=a&scope%5B%5D=b") == ["scope[]=a", "scope[]=b"])
        #expect(pairs("a==b") == ["a==b"])
        #expect(pairs("%C3%A9t%C3%A9=%E2%9C%93") == ["été=✓"])
    }

    @Test("malformed escapes and bytes that are not UTF-8 are kept as written; empty pairs are skipped", arguments: ["%zz", "%", "%2", "%FF%FE", "%E2%82", "a+%zz"])
    func malformed(_ text: String) {
        #expect(URLEncodedForm.decode("k=\(text)").map(\.value) == [text])
        #expect(URLEncodedForm.decode("&&\(text)&&").map(\.name) == [text])
    }

    @Test("nothing at all is no pairs")
    func empty() {
        #expect(URLEncodedForm.decode("").isEmpty)
        #expect(URLEncodedForm.decode("&&&").isEmpty)
        #expect(pairs("=") == ["="])
    }
}
