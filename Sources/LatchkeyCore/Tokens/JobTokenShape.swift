/// What a presented `glcbt-` job token looks like, read before anything verifies or looks it up.
///
/// A job token is either opaque (`glcbt-` + base64url of 32 bytes, as every release minted before JWTs) or, as GitLab 17.10+,
/// `glcbt-` + a compact RS256 JWS (`header.payload.signature`, base64url without padding). Anything else is no job token.
public enum JobTokenShape: Sendable, Equatable {
    /// `glcbt-` + base64url characters only.
    case opaque
    /// `glcbt-` + three base64url segments; the associated value is the JWS without the prefix.
    case jwt(String)

    /// The longest token accepted: a JWT job token is about 900 characters; twice a 4096-bit key's signature leaves room, and
    /// nothing longer is decoded, verified or digested.
    public static let maximumLength = 4096

    /// The shape of `token`, or nil when it is no job token (wrong prefix, too long, empty segments, characters outside base64url).
    public static func of(_ token: String) -> JobTokenShape? {
        let prefix = TokenKind.jobToken.prefix
        let bytes = token.utf8
        guard bytes.count <= maximumLength, token.hasPrefix(prefix) else { return nil }
        let body = bytes.dropFirst(prefix.utf8.count)
        var segments = 1
        var segmentLength = 0
        for byte in body {
            if byte == UInt8(ascii: ".") {
                guard segmentLength > 0 else { return nil }
                segments += 1
                segmentLength = 0
                continue
            }
            guard isBase64URL(byte) else { return nil }
            segmentLength += 1
        }
        guard segmentLength > 0 else { return nil }
        switch segments {
        case 1: return .opaque
        case 3: return .jwt(String(decoding: body, as: UTF8.self))
        default: return nil
        }
    }

    /// The three segments of a compact JWS, when every one is non-empty base64url; used by masking to find a JWT's parts.
    public static func jwsSegments(_ bytes: some Collection<UInt8>) -> [ArraySlice<UInt8>]? {
        let array = Array(bytes)
        let segments = array.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isBase64URL) }) else { return nil }
        return segments
    }

    static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"),
            UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
