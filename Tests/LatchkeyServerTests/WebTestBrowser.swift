import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import NIOCore
import Testing

/// A browser for route tests: keeps the session cookie between requests and reads each form's CSRF token from the last page.
final class WebTestBrowser {
    let client: any TestClientProtocol
    var cookie: String?
    private(set) var lastPage = ""

    init(_ client: any TestClientProtocol) { self.client = client }

    /// The CSRF token of the last HTML page.
    var csrf: String {
        guard let range = lastPage.range(of: #"name="authenticity_token" value="[0-9a-f]+""#, options: .regularExpression) else { return "" }
        return String(lastPage[range].dropFirst(#"name="authenticity_token" value=""#.count).dropLast())
    }

    func get(_ path: String) async throws -> WebResponse {
        try await send(.get, path, body: nil)
    }

    /// Posts a form; the last page's CSRF token is added unless `csrf` is false.
    func post(_ path: String, _ fields: [(String, String)] = [], csrf: Bool = true) async throws -> WebResponse {
        var fields = fields
        if csrf { fields.append(("authenticity_token", self.csrf)) }
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(.post, path, body: body)
    }

    /// Signs in through the form.
    @discardableResult
    func signIn(_ username: String, password: String) async throws -> WebResponse {
        _ = try await get("/users/sign_in")
        let response = try await post("/users/sign_in", [("user[login]", username), ("user[password]", password)])
        #expect(response.status == .seeOther, "sign-in failed: \(response.status) \(response.text.prefix(200))")
        return response
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, body: String?) async throws -> WebResponse {
        var headers = HTTPFields()
        headers[.accept] = "text/html"
        if let cookie { headers[.cookie] = "_latchkey_session=\(cookie)" }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            WebResponse(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
        if let setCookie = response.headers[.setCookie], let value = setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last {
            cookie = String(value)
        }
        if response.headers[.contentType]?.hasPrefix("text/html") == true { lastPage = response.text }
        return response
    }
}

/// One answer as a browser sees it.
struct WebResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    var location: String? { headers[.location] }
}
