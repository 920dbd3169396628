import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// The server-rendered web interface: sign-in, projects, pipelines, jobs, CI/CD settings with Token Access, and the admin area.
/// Every access decision is `AccessPolicy`'s; every job token scope change goes through `JobTokenScopeService`.
struct WebPages: Sendable {
    let environment: ServerEnvironment
    let queue: JobQueue
    let templates: WebTemplates
    let cookie: SessionCookie
    let throttle: FailedAttemptThrottle
    let scope: JobTokenScopeService

    init(environment: ServerEnvironment, queue: JobQueue) {
        self.environment = environment
        self.queue = queue
        self.templates = WebTemplates()
        self.cookie = SessionCookie(digester: environment.digester, secure: environment.settings.baseURL.lowercased().hasPrefix("https://"))
        self.throttle = FailedAttemptThrottle(store: environment.store)
        self.scope = JobTokenScopeService(environment: environment)
    }

    /// The answer for a web page, or nil when the request names none.
    func respond(to request: Request, context: AppRequestContext) async throws -> Response? {
        let rawPath = request.uri.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let path = rawPath.removingPercentEncoding ?? rawPath
        guard let route = WebRoute(method: request.method, path: path) else { return nil }
        if route == .stylesheet { return stylesheet() }
        if route == .script { return script() }
        var web = try await open(request, context: context)
        do {
            if request.method == .post, !web.session.acceptsCSRF(web.form["authenticity_token"]) { throw WebError.forgedRequest }
            return try await dispatch(route, &web)
        } catch WebError.notFound {
            return message(&web, status: .notFound, title: "Page not found", text: "The page could not be found or you don't have permission to view it.")
        } catch WebError.signInRequired(let returnTo) {
            let target = "/users/sign_in?redirect_to=" + (returnTo.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")
            return redirect(&web, to: target, alert: "You need to sign in before continuing.")
        } catch WebError.forgedRequest {
            // A plain page, no layout: the request did not come from one of our forms.
            var headers = Self.securityHeaders
            headers[.contentType] = "text/html; charset=utf-8"
            let body = "<!doctype html><title>Forbidden</title><h1>403 Forbidden</h1><p>This form has expired or did not come from this site. "
                + "Go back, reload the page and try again.</p>"
            return Response(status: .forbidden, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }

    private func dispatch(_ route: WebRoute, _ web: inout WebRequest) async throws -> Response {
        switch route {
        case .stylesheet: return stylesheet()
        case .script: return script()
        case .jobTrace(let path, let id): return try await jobTraceUpdate(&web, path, id: id)
        case .signInForm: return signInForm(&web)
        case .signIn: return try await signIn(&web)
        case .signOut: return try await signOut(&web)
        case .dashboard: return try await dashboard(&web)
        case .admin(let section): return try await admin(&web, section: section)
        case .adminSetEnforcement: return try await setEnforcement(&web)
        case .project(let path): return try await projectPage(&web, path)
        case .pipelines(let path): return try await pipelinesPage(&web, path)
        case .pipeline(let path, let id): return try await pipelinePage(&web, path, id: id)
        case .job(let path, let id): return try await jobPage(&web, path, id: id)
        case .jobRaw(let path, let id): return try await jobRaw(&web, path, id: id)
        case .jobAction(let path, let id, let action): return try await jobAction(&web, path, id: id, action: action)
        case .jobArtifacts(let path, let id): return try await jobArtifacts(&web, path, id: id)
        case .ciSettings(let path): return try await ciSettings(&web, path)
        case .tokenAccess(let path, let action): return try await tokenAccess(&web, path, action: action)
        case .authenticationLogCSV(let path): return try await authenticationLogCSV(&web, path)
        }
    }

    /// Reads the session cookie (a fresh one when missing, forged or expired), its user, and a posted form.
    func open(_ request: Request, context: AppRequestContext) async throws -> WebRequest {
        var session = request.cookies[SessionCookie.name].flatMap { cookie.open($0.value) }
        var changed = false
        var user: User?
        if let userID = session?.userID {
            user = try await Authenticator(environment: environment).sessionUser(userID: userID, sessionID: session?.sessionID)
            // A signed-out, blocked or deleted user's session ends at once.
            if user == nil { session = nil }
        }
        if session == nil {
            session = .fresh()
            changed = true
        }
        let form = try await WebForm.read(request)
        return WebRequest(request: request, context: context, session: session!, sessionChanged: changed, user: user, form: form)
    }

    /// The 404 page for a path that names no page.
    func notFound(_ request: Request, context: AppRequestContext) async throws -> Response {
        var web = try await open(request, context: context)
        return message(&web, status: .notFound, title: "Page not found", text: "The page could not be found or you don't have permission to view it.")
    }

    // MARK: Answers

    static var securityHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        headers[.contentSecurityPolicy] = "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"
        return headers
    }

    private func stylesheet() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/css; charset=utf-8"
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: templates.stylesheet)))
    }

    private func script() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/javascript; charset=utf-8"
        headers[.cacheControl] = "public, max-age=300"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: templates.script)))
    }

    /// Adds the session cookie when it changed.
    func finish(_ response: inout Response, _ web: WebRequest) {
        guard web.sessionChanged, let value = try? cookie.seal(web.session) else { return }
        let maxAge = web.session.userID == nil ? nil : Int(SessionCookie.lifetime)
        response.setCookie(Cookie(name: SessionCookie.name, value: value, maxAge: maxAge, path: "/", secure: cookie.secure, httpOnly: true, sameSite: .lax))
    }

    /// A page in the layout; shows (and clears) the session's one-time notice.
    func page(
        _ web: inout WebRequest, _ template: String, title: String, view: Any, status: HTTPResponse.Status = .ok, project: ProjectNavigation? = nil,
        admin: Bool = false, refresh: String? = nil, noscriptRefresh: String? = nil, script: Bool = false, crumbs: [Crumb] = []
    ) -> Response {
        let layout = LayoutView(
            title: title, user: web.user.map(UserView.init), csrf: web.session.csrf, notice: web.session.notice, alert: web.session.alert, project: project,
            admin: admin, refresh: refresh, noscriptRefresh: noscriptRefresh, script: script, breadcrumbs: crumbs)
        if web.session.notice != nil || web.session.alert != nil {
            web.session.notice = nil
            web.session.alert = nil
            web.sessionChanged = true
        }
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        let html = templates.render(template, view: view, layout: layout)
        var response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        finish(&response, web)
        return response
    }

    /// 303 See Other to a local path, with an optional one-time notice.
    func redirect(_ web: inout WebRequest, to location: String, notice: String? = nil, alert: String? = nil) -> Response {
        if notice != nil || alert != nil {
            web.session.notice = notice
            web.session.alert = alert
            web.sessionChanged = true
        }
        var headers = Self.securityHeaders
        headers[.location] = location
        var response = Response(status: .seeOther, headers: headers)
        finish(&response, web)
        return response
    }

    func message(_ web: inout WebRequest, status: HTTPResponse.Status, title: String, text: String) -> Response {
        page(&web, "message", title: title, view: MessageView(status: Int(status.code), title: title, text: text), status: status)
    }

    // MARK: Access

    /// The project at `path` if the visitor may use `ability` on it; otherwise sign-in for visitors and 404 for everyone else.
    func project(_ web: WebRequest, _ path: String, _ ability: ProjectAbility) async throws -> ProjectAccessFacts {
        guard let project = try await environment.store.projects.find(fullPath: path) else { throw refusal(web) }
        let facts = try await environment.authorizer.facts(for: project, actor: web.actor)
        guard environment.authorizer.allows(web.actor, ability, facts) else { throw refusal(web) }
        return facts
    }

    func may(_ web: WebRequest, _ ability: ProjectAbility, _ facts: ProjectAccessFacts) -> Bool {
        environment.authorizer.allows(web.actor, ability, facts)
    }

    func refusal(_ web: WebRequest) -> WebError {
        web.user == nil ? .signInRequired(returnTo: web.returnPath) : .notFound
    }

    func navigation(_ web: WebRequest, _ facts: ProjectAccessFacts, active: KeyPath<ProjectNavigation, Bool>) -> ProjectNavigation {
        var navigation = ProjectNavigation(
            name: facts.project.name, fullPath: facts.project.fullPath, url: "/\(facts.project.fullPath)", canAdmin: may(web, .adminJobTokenScope, facts))
        if let writable = active as? WritableKeyPath<ProjectNavigation, Bool> { navigation[keyPath: writable] = true }
        return navigation
    }

    func crumbs(_ project: Project, _ extra: Crumb...) -> [Crumb] {
        [Crumb(title: project.namespace.name, url: nil), Crumb(title: project.name, url: "/\(project.fullPath)")] + extra
    }
}

/// A page with one message (not found, refused).
struct MessageView {
    var status: Int
    var title: String
    var text: String
}
