import Foundation

/// `application/x-www-form-urlencoded` text, and query strings, decoded as Rack decodes them.
///
/// `+` is a space and `%XX` a byte; a name or value whose escapes are malformed (`%zz`) or not UTF-8 is kept exactly as
/// written (`+` included), never dropped. Pairs are separated by `&`; an empty pair is skipped and a pair without `=` has an empty value.
public enum URLEncodedForm {
    /// The name-value pairs of `text`, in order, repeated names included.
    public static func decode(_ text: String) -> [(name: String, value: String)] {
        text.split(separator: "&").map { pair in
            guard let equals = pair.firstIndex(of: "=") else { return (component(pair), "") }
            return (component(pair[..<equals]), component(pair[pair.index(after: equals)...]))
        }
    }

    /// One name or value: `+` as a space, then percent-decoding.
    public static func component(_ text: Substring) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
    }
}
