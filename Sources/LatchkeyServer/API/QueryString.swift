import Hummingbird

/// A request's query string decoded as Rack decodes it: `+` is a space, `%XX` a byte, and a repeated name keeps its last value.
///
/// Hummingbird's `uri.queryParameters` leaves `+` as it is, but gitlab-runner (Go's `url.Values.Encode`) writes a space as `+`,
/// so `expire_in=1+week` must read as `1 week`.
struct QueryString: Sendable {
    let fields: [(String, String)]

    init(_ query: String?) {
        fields = APIParameters.parseForm(query ?? "")
    }

    init(_ request: Request) {
        self.init(request.uri.query)
    }

    /// The last value given for `name`, decoded; nil when absent.
    func get(_ name: String) -> String? {
        fields.last { $0.0 == name }?.1
    }
}
