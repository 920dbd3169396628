import Foundation

/// The name, version and file of a generic package path, validated with GitLab's rules (`Gitlab::Regex::Packages`).
struct GenericPackageCoordinates: Equatable {
    var name: String
    var version: String
    /// The file name, with its directory path when one was given (`path/to/file.txt`).
    var fileName: String

    /// Parses the raw (still percent-encoded) rest of `/packages/generic/…`: `name/version/[path/]file`.
    static func parse(_ raw: String) throws -> GenericPackageCoordinates {
        let parts = raw.split(separator: "/", omittingEmptySubsequences: false).map { String($0).removingPercentEncoding ?? String($0) }
        guard parts.count >= 3 else { throw APIError.routeNotFound }
        let name = parts[0]
        let version = parts[1]
        let directories = parts[2..<(parts.count - 1)]
        let file = parts[parts.count - 1]
        guard isValidName(name) else { throw APIError.invalid("package_name") }
        guard isValidVersion(version) else { throw APIError.invalid("package_version") }
        guard directories.allSatisfy(isValidName) else { throw APIError(.badRequest, error: "path should be a valid file path") }
        guard isValidName(file) else { throw APIError.invalid("file_name") }
        return GenericPackageCoordinates(name: name, version: version, fileName: (directories + [file]).joined(separator: "/"))
    }

    /// `\A[A-Za-z0-9\.\_\-\+]+\z` (maven_file_name_regex), and never `.` or `..` (Grape's `file_path` check).
    static func isValidName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 255 && text != "." && text != ".."
            && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-+".unicodeScalars.contains($0)) }
    }

    /// `\A(?!.*\.\.)[\w+.-]+\z` (maven_version_regex).
    static func isValidVersion(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 255 && !text.contains("..")
            && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_+.-".unicodeScalars.contains($0)) }
    }
}
