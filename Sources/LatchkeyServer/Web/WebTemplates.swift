import Foundation
import LatchkeyCore
import Mustache

/// The page templates, loaded once from the module's resources, and the shared layout around every page.
struct WebTemplates: Sendable {
    let library: MustacheLibrary
    let stylesheet: String
    /// The job page's live tail; every page works without it.
    let script: String

    /// Loads `Web/Templates/*.mustache` and `Web/Static/latchkey.css` from the bundle.
    init() {
        var templates: [String: MustacheTemplate] = [:]
        let directory = Bundle.module.url(forResource: "layout", withExtension: "mustache", subdirectory: "Templates")?.deletingLastPathComponent()
        if let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) {
            for name in names where name.hasSuffix(".mustache") {
                let url = directory.appendingPathComponent(name)
                guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
                do {
                    templates[String(name.dropLast(".mustache".count))] = try MustacheTemplate(string: text)
                } catch {
                    // A broken template is a programming error the route tests catch; show it loudly rather than a blank page.
                    templates[String(name.dropLast(".mustache".count))] = try? MustacheTemplate(string: "Template \(name) does not parse: \(error)")
                }
            }
        }
        library = MustacheLibrary(templates: templates)
        let css = Bundle.module.url(forResource: "latchkey", withExtension: "css", subdirectory: "Static")
        stylesheet = (css.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? "") + JobLogHTML.paletteCSS
        let js = Bundle.module.url(forResource: "latchkey", withExtension: "js", subdirectory: "Static")
        script = js.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
    }

    /// Renders `template` with `view`, then the layout around it.
    func render(_ template: String, view: Any, layout: LayoutView) -> String {
        var layout = layout
        layout.content = library.render(view, withTemplate: template) ?? ""
        layout.hasBreadcrumbs = !layout.breadcrumbs.isEmpty
        return library.render(layout, withTemplate: "layout") ?? layout.content
    }
}

/// What the layout needs: title, who is signed in, the project navigation, one-time notices, and the page itself.
struct LayoutView {
    var title: String
    var content = ""
    var user: UserView?
    var csrf: String
    var notice: String?
    var alert: String?
    var project: ProjectNavigation?
    var admin = false
    /// `<meta http-equiv="refresh">` content, for pages that follow a running job without JavaScript.
    var refresh: String?
    /// The same inside `<noscript>`, for pages whose script follows the job instead.
    var noscriptRefresh: String?
    /// Whether the page loads `/assets/latchkey.js`.
    var script = false
    var breadcrumbs: [Crumb] = []
    var hasBreadcrumbs = false
}

/// One link of the breadcrumb trail.
struct Crumb {
    var title: String
    /// nil for a crumb without a page of its own.
    var url: String?
}

/// The signed-in user, as the header shows them.
struct UserView {
    var username: String
    var name: String
    var isAdmin: Bool
    var initial: String

    init(_ user: User) {
        username = user.username
        name = user.name
        isAdmin = user.isAdmin
        initial = String(user.name.first ?? user.username.first ?? "?").uppercased()
    }
}

/// The project sidebar: which entry is current and whether Settings shows.
struct ProjectNavigation {
    var name: String
    var fullPath: String
    var url: String
    var overview = false
    var pipelines = false
    var jobs = false
    var settings = false
    var canAdmin = false
}
