/// The kind of a release asset link (GitLab's `link_type`).
public enum ReleaseLinkType: String, Sendable, CaseIterable, Codable {
    case other, runbook, image, package
}

/// What a release asset link would become: its fields after an update is applied, to be checked as a whole.
public struct ReleaseLinkDraft: Sendable, Equatable {
    public var name: String
    public var url: String
    /// The permanent path under the release's `downloads/` (GitLab's `filepath`, sent as `direct_asset_path`); nil when none.
    public var filepath: String?
    public var linkType: ReleaseLinkType

    public init(name: String, url: String, filepath: String?, linkType: ReleaseLinkType) {
        self.name = name
        self.url = url
        self.filepath = filepath
        self.linkType = linkType
    }
}

/// GitLab's `Releases::Link` validations, with its messages (`errors.full_messages`, in the model's order).
public enum ReleaseLinkRules {
    public static let maxNameLength = 255
    public static let maxURLLength = 2048
    /// GitLab's `FILEPATH_MAX_LENGTH`.
    public static let maxFilepathLength = 128
    /// Links one release may hold: a bound on the work a listing or a release entity does.
    public static let maxLinksPerRelease = 100
    /// Only these schemes may be linked (GitLab's `addressable_url: { schemes: %w[http https ftp] }`): never `javascript:`, `data:`,
    /// `file:`, which a release page or a client would follow.
    public static let schemes = ["http", "https", "ftp"]

    /// The URL as it is stored: without surrounding whitespace, as GitLab's validator strips it.
    public static func normalizedURL(_ url: String) -> String { url.trimmingWhitespace }

    /// Every message the draft earns beside the other links of its release (`others` excludes the link being updated).
    public static func errors(_ draft: ReleaseLinkDraft, others: [ReleaseLinkDraft]) -> [String] {
        var errors: [String] = []
        let url = draft.url.trimmingWhitespace
        if url.isEmpty {
            errors.append("Url can't be blank")
        } else if url.utf8.count > maxURLLength {
            errors.append("Url is too long (maximum is \(maxURLLength) characters)")
        } else if let problem = urlProblem(url) {
            errors.append("Url \(problem)")
        } else if others.contains(where: { $0.url.trimmingWhitespace == url }) {
            errors.append("Url has already been taken")
        }
        if draft.name.trimmingWhitespace.isEmpty {
            errors.append("Name can't be blank")
        } else if draft.name.count > maxNameLength {
            errors.append("Name is too long (maximum is \(maxNameLength) characters)")
        } else if others.contains(where: { $0.name == draft.name }) {
            errors.append("Name has already been taken")
        }
        if let path = draft.filepath, !path.isEmpty {
            if others.contains(where: { $0.filepath == path }) { errors.append("Filepath has already been taken") }
            if path.count > maxFilepathLength {
                errors.append("Filepath is too long (maximum is \(maxFilepathLength) characters)")
            } else if !isValidFilepath(path) {
                errors.append("Filepath is in an invalid format")
            }
        }
        return errors
    }

    /// Why `url` may not be linked, in GitLab's words after the attribute name; nil when it may.
    static func urlProblem(_ url: String) -> String? {
        let bytes = Array(url.utf8)
        // Control characters and spaces never belong in a URL (and a NUL or newline would end up in headers and pages).
        if bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) { return "must be a valid URL" }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return "is blocked: Only allowed schemes are \(schemes.joined(separator: ", "))" }
        let scheme = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
        guard schemes.contains(scheme) else { return "is blocked: Only allowed schemes are \(schemes.joined(separator: ", "))" }
        // `scheme://host...`: an authority with a host is required.
        let rest = bytes[(colon + 1)...]
        guard rest.starts(with: Array("//".utf8)) else { return "must be a valid URL" }
        let authority = rest.dropFirst(2).prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
        let host = authority.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false).last ?? []
        guard !host.isEmpty, host.first != UInt8(ascii: ":") else { return "must be a valid URL" }
        return nil
    }

    /// GitLab's `FILEPATH_REGEX` (`\A/[^/](?!.*//.*)[-.\w/]+[\da-zA-Z]+\z`), read without a regex, and stricter: every character
    /// is one of `[-._/A-Za-z0-9]` and no segment is `.` or `..`, since the path becomes part of a URL.
    public static func isValidFilepath(_ path: String) -> Bool {
        let bytes = Array(path.utf8)
        guard bytes.count >= 4, bytes[0] == UInt8(ascii: "/"), bytes[1] != UInt8(ascii: "/") else { return false }
        func isWord(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || byte == UInt8(ascii: "_") }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
        for (index, byte) in bytes.enumerated() {
            guard isWord(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/") else { return false }
            if byte == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") { return false }
        }
        guard let last = bytes.last, isAlphanumeric(last) else { return false }
        return !bytes.split(separator: UInt8(ascii: "/")).contains { $0.elementsEqual(".".utf8) || $0.elementsEqual("..".utf8) }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line ends (Ruby's `strip`, which GitLab applies to link URLs).
    fileprivate var trimmingWhitespace: String {
        let scalars = unicodeScalars
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        guard let start = scalars.firstIndex(where: { !isSpace($0) }), let end = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[start...end])
    }
}
