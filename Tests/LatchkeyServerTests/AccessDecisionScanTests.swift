import Foundation
import Testing

/// Nothing outside `LatchkeyCore/Access` decides access: no role comparison and no administrator check in a condition anywhere else.
@Suite("Access decisions live in AccessPolicy")
struct AccessDecisionScanTests {
    /// A role compared with a level, or a condition on `isAdmin`.
    static let patterns = [
        #"[\w\)\]]\s*(>=|<=|>|<)\s*\.(guest|planner|reporter|developer|maintainer|owner|noAccess|minimal)\b"#,
        #"(memberLevel|accessLevel|effectiveLevel)\s*(==|!=)\s*\.(guest|planner|reporter|developer|maintainer|owner|noAccess|minimal)"#,
        #"(\bif\b|\bguard\b|\bwhere\b|\bwhile\b|&&|\|\|)[^\n]*\bisAdmin\b"#,
        #"\bisAdmin\s*(&&|\|\||\?\s|==|!=)"#,
    ]

    /// Uses that are not decisions: finding the administrator the host's `admin` command acts as.
    static let allowed = ["first(where: \\.isAdmin)"]
    /// Files that define the role type itself (its order and which values a member may hold).
    static let definitions = ["/LatchkeyCore/Access/", "/LatchkeyCore/Identity/AccessLevel.swift"]

    @Test("no file outside LatchkeyCore/Access compares roles or branches on isAdmin")
    func noDecisionsOutsideAccess() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        let expressions = try Self.patterns.map { try NSRegularExpression(pattern: $0) }
        var found: [String] = []
        var scanned = 0
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        for case let file as URL in files where file.pathExtension == "swift" && !Self.definitions.contains(where: file.path.contains) {
            scanned += 1
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() {
                let code = String(line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                guard !Self.allowed.contains(where: code.contains) else { continue }
                let range = NSRange(code.startIndex..., in: code)
                if expressions.contains(where: { $0.firstMatch(in: code, range: range) != nil }) {
                    found.append("\(file.path.replacingOccurrences(of: sources.path + "/", with: "")):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(scanned > 100)
        #expect(found.isEmpty, "access decided outside AccessPolicy:\n\(found.joined(separator: "\n"))")
    }
}
