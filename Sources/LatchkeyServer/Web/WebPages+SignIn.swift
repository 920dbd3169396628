import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

extension WebPages {
    struct SignInView {
        var csrf: String
        var login: String
        var redirectTo: String
        var error: String?
    }

    /// Only a path on this site (never `//host` or a scheme) may be where sign-in leads.
    static func localPath(_ value: String?) -> String {
        // Browsers drop tabs and newlines from a Location and read `\` as `/`, so `/\t/evil.example` or `/\evil.example`
        // would leave the site: no control character, space or backslash anywhere, and exactly one leading slash.
        guard let value, value.hasPrefix("/"), !value.hasPrefix("//"),
            !value.unicodeScalars.contains(where: { $0 == "\\" || $0.properties.generalCategory == .control || $0.properties.isWhitespace })
        else { return "/" }
        return value
    }

    func signInForm(_ web: inout WebRequest) -> Response {
        if web.user != nil { return redirect(&web, to: "/") }
        let redirectTo = Self.localPath(web.request.uri.queryParameters.get("redirect_to"))
        return page(&web, "sign_in", title: "Sign in", view: SignInView(csrf: web.session.csrf, login: "", redirectTo: redirectTo))
    }

    func signIn(_ web: inout WebRequest) async throws -> Response {
        let login = web.form["user[login]"] ?? ""
        let password = web.form.fields.first { $0.0 == "user[password]" }?.1 ?? ""
        let redirectTo = Self.localPath(web.form["redirect_to"])
        func refuse(_ text: String, _ status: HTTPResponse.Status) -> Response {
            page(&web, "sign_in", title: "Sign in", view: SignInView(csrf: web.session.csrf, login: login, redirectTo: redirectTo, error: text), status: status)
        }
        guard !login.isEmpty, !password.isEmpty else { return refuse("Enter your username and your password.", .unprocessableContent) }
        let address = web.clientAddress
        guard let slot = try await throttle.attempt(account: login, address: address, rule: .webSignIn) else {
            return refuse("Too many failed sign-in attempts. Wait ten minutes and try again.", .tooManyRequests)
        }
        let credentials = try await environment.store.users.credentials(username: login)
        var verified = false
        if let (_, hash) = credentials, let hash {
            verified = (try? await environment.passwords.verify(password, hash: hash)) ?? false
        } else {
            // As slow as a real check, so the answer's timing does not tell which usernames exist.
            _ = try? await environment.passwords.hash(password)
        }
        guard let (user, _) = credentials, verified else {
            // GitLab's words: they do not tell which of the two was wrong.
            return refuse("Invalid login or password.", .unauthorized)
        }
        guard !user.isBlocked else {
            return refuse("Your account has been blocked. Contact your administrator if you think this is an error.", .forbidden)
        }
        try await throttle.succeeded(slot)
        // A new session (and CSRF token) at sign-in, so a session planted before it is worth nothing after.
        web.session = .fresh(userID: user.id)
        if let id = web.session.sessionID {
            try await environment.store.webSessions.create(
                digest: environment.digester.digest(id), userID: user.id, expiresAt: Date().addingTimeInterval(SessionCookie.lifetime))
        }
        web.sessionChanged = true
        return redirect(&web, to: redirectTo, notice: "Signed in successfully.")
    }

    func signOut(_ web: inout WebRequest) async throws -> Response {
        // Ends the session on the server too: the old cookie, replayed, is no session at all.
        if let id = web.session.sessionID { try await environment.store.webSessions.delete(digest: environment.digester.digest(id)) }
        web.session = .fresh()
        web.sessionChanged = true
        return redirect(&web, to: "/users/sign_in", notice: "Signed out successfully.")
    }
}
