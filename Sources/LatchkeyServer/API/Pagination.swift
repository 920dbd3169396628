import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyStore

extension PageRequest {
    /// GitLab's `page` and `per_page` (default 20, at most 100); nonsense answers 400 as Grape does.
    init(_ parameters: APIParameters) throws {
        let page = try parameters.int("page") ?? 1
        let perPage = try parameters.int("per_page") ?? 20
        guard page >= 1, page < 1_000_000 else { throw APIError.invalid("page") }
        guard perPage >= 1 else { throw APIError.invalid("per_page") }
        self.init(page: Int(page), perPage: Int(min(perPage, 100)))
    }
}

extension Page where Element: Encodable {
    /// The page as JSON with GitLab's pagination headers, which python-gitlab's `get_all=True` walks.
    func response(for request: Request, baseURL: String) throws -> Response {
        let totalPages = Swift.max(1, (total + request_.perPage - 1) / request_.perPage)
        var headers: HTTPFields = [:]
        headers[HTTPField.Name("X-Page")!] = String(request_.page)
        headers[HTTPField.Name("X-Per-Page")!] = String(request_.perPage)
        headers[HTTPField.Name("X-Total")!] = String(total)
        headers[HTTPField.Name("X-Total-Pages")!] = String(totalPages)
        headers[HTTPField.Name("X-Next-Page")!] = request_.page < totalPages ? String(request_.page + 1) : ""
        headers[HTTPField.Name("X-Prev-Page")!] = request_.page > 1 ? String(request_.page - 1) : ""
        var links: [String] = []
        func link(_ page: Int, _ rel: String) {
            var components = URLComponents(string: baseURL + request.uri.path) ?? URLComponents()
            var items = (URLComponents(string: request.uri.description)?.queryItems ?? []).filter { $0.name != "page" && $0.name != "per_page" }
            items.append(URLQueryItem(name: "page", value: String(page)))
            items.append(URLQueryItem(name: "per_page", value: String(request_.perPage)))
            components.queryItems = items
            links.append("<\(components.string ?? "")>; rel=\"\(rel)\"")
        }
        if request_.page > 1 { link(request_.page - 1, "prev") }
        if request_.page < totalPages { link(request_.page + 1, "next") }
        link(1, "first")
        link(totalPages, "last")
        headers[HTTPField.Name("Link")!] = links.joined(separator: ", ")
        return try JSON.response(items, headers: headers)
    }

    private var request_: PageRequest { self.request }
}
