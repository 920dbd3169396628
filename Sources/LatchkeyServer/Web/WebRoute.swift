import HTTPTypes

/// The web pages and forms, parsed from a request's method and path (GitLab's URLs: `/<full_path>/-/<page>`).
enum WebRoute: Equatable {
    case stylesheet, script
    case signInForm, signIn, signOut
    case dashboard
    /// `/admin`, `/admin/users`, `/admin/groups`, `/admin/runners`, `/admin/application_settings/ci_cd`.
    case admin(section: String)
    case adminSetEnforcement
    case project(String)
    case pipelines(String)
    case pipeline(String, id: Int64)
    case job(String, id: Int64)
    case jobRaw(String, id: Int64)
    /// `…/-/jobs/:id/trace.json?offset=N`, the job page's live tail.
    case jobTrace(String, id: Int64)
    case jobAction(String, id: Int64, action: String)
    case jobArtifacts(String, id: Int64)
    case ciSettings(String)
    /// A form of the Token Access section (`inbound`, `allowlist`, `autopopulate`, ...).
    case tokenAccess(String, action: String)
    case authenticationLogCSV(String)

    static let adminSections: Set<String> = ["", "users", "groups", "runners", "application_settings/ci_cd"]
    static let tokenAccessActions: Set<String> = [
        "inbound", "outbound", "push", "allowlist", "allowlist_remove", "allowlist_permissions", "outbound_allowlist", "outbound_remove", "autopopulate",
    ]

    /// The route for `path` (percent-decoded, without leading or trailing slashes), or nil when it is no web page.
    init?(method: HTTPRequest.Method, path: String) {
        let get = method == .get || method == .head
        let post = method == .post
        switch path {
        case "assets/latchkey.css" where get: self = .stylesheet
        case "assets/latchkey.js" where get: self = .script
        case "users/sign_in" where get: self = .signInForm
        case "users/sign_in" where post: self = .signIn
        case "users/sign_out" where post: self = .signOut
        case "" where get: self = .dashboard
        case "admin/application_settings/ci_cd" where post: self = .adminSetEnforcement
        case "admin" where get: self = .admin(section: "")
        case _ where get && path.hasPrefix("admin/") && Self.adminSections.contains(String(path.dropFirst(6))):
            self = .admin(section: String(path.dropFirst(6)))
        default:
            guard let (project, rest) = Self.split(path) else { return nil }
            let parts = rest.split(separator: "/").map(String.init)
            switch (parts.count, parts.first) {
            case (0, _) where get: self = .project(project)
            case (1, "pipelines") where get: self = .pipelines(project)
            case (2, "pipelines") where get:
                guard let id = Int64(parts[1]) else { return nil }
                self = .pipeline(project, id: id)
            case (2, "jobs") where get:
                guard let id = Int64(parts[1]) else { return nil }
                self = .job(project, id: id)
            case (3, "jobs") where get && parts[2] == "raw":
                guard let id = Int64(parts[1]) else { return nil }
                self = .jobRaw(project, id: id)
            case (3, "jobs") where get && parts[2] == "trace.json":
                guard let id = Int64(parts[1]) else { return nil }
                self = .jobTrace(project, id: id)
            case (3, "jobs") where post && ["play", "cancel", "retry"].contains(parts[2]):
                guard let id = Int64(parts[1]) else { return nil }
                self = .jobAction(project, id: id, action: parts[2])
            case (4, "jobs") where get && parts[2] == "artifacts" && parts[3] == "download":
                guard let id = Int64(parts[1]) else { return nil }
                self = .jobArtifacts(project, id: id)
            case (2, "settings") where get && parts[1] == "ci_cd": self = .ciSettings(project)
            case (4, "settings") where parts[1] == "ci_cd" && parts[2] == "token_access":
                if get && parts[3] == "authentication_log.csv" {
                    self = .authenticationLogCSV(project)
                } else if post && Self.tokenAccessActions.contains(parts[3]) {
                    self = .tokenAccess(project, action: parts[3])
                } else {
                    return nil
                }
            default: return nil
            }
        }
    }

    /// `group/sub/project/-/jobs/1` → (`group/sub/project`, `jobs/1`); a project path has a namespace and a name.
    private static func split(_ path: String) -> (String, String)? {
        let project: String
        let rest: String
        if let range = path.range(of: "/-/") {
            project = String(path[..<range.lowerBound])
            rest = String(path[range.upperBound...])
        } else {
            project = path
            rest = ""
        }
        let segments = project.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 2, !segments.contains(where: { $0.isEmpty || $0 == "-" || $0.hasPrefix(".") }) else { return nil }
        return (project, rest)
    }
}
