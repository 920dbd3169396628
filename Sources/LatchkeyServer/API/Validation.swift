import Foundation

/// GitLab's rules for names, paths and other user input.
enum Validation {
    static let pathMessage = "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'"

    /// A namespace or project path segment.
    static func isPath(_ path: String) -> Bool {
        guard !path.isEmpty, path.count <= 255, let first = path.unicodeScalars.first, let last = path.unicodeScalars.last else { return false }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
        guard path.unicodeScalars.allSatisfy(allowed.contains) else { return false }
        guard first != "-", first != ".", last != "." else { return false }
        let lower = path.lowercased()
        return !lower.hasSuffix(".git") && !lower.hasSuffix(".atom") && !path.contains("..") && !reserved.contains(lower)
    }

    /// Top-level names that would clash with our own routes.
    static let reserved: Set<String> = ["-", "api", "admin", "users", "groups", "projects", "help", "jwt", "oauth", "assets", "dashboard", "explore", "search", "uploads"]

    static func isEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@")
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !email.contains(" ") && email.count <= 255
    }

    /// `YYYY-MM-DD`.
    static func isDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let month = Int(parts[1]), let day = Int(parts[2]), Int(parts[0]) != nil
        else { return false }
        return (1...12).contains(month) && (1...31).contains(day)
    }

    /// A path made from a name, as GitLab does when only `name` is given.
    static func path(fromName name: String) -> String {
        let mapped = name.lowercased().map { character -> Character in
            character.isLetter && character.isASCII || character.isNumber && character.isASCII || "_-.".contains(character) ? character : "-"
        }
        var path = String(mapped)
        while path.hasPrefix("-") || path.hasPrefix(".") { path.removeFirst() }
        while path.hasSuffix(".") || path.hasSuffix("-") { path.removeLast() }
        while path.contains("--") { path = path.replacingOccurrences(of: "--", with: "-") }
        return path
    }
}
