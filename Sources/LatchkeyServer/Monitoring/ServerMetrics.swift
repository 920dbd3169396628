import CoreMetrics
import LatchkeyCore
import Metrics
import Prometheus

/// The process's metrics: swift-metrics bootstrapped once with a Prometheus registry that `GET /-/metrics` renders.
///
/// One registry per process, however many routers a test builds: swift-metrics has one global factory, and Hummingbird's
/// `MetricsMiddleware` makes its handlers from it on first use, so bootstrapping happens before the first router exists.
enum ServerMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (names[name] ?? name, labels.map { (labelNames[$0.0] ?? $0.0, $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Hummingbird's metric names, in Prometheus's conventions.
    static let names = [
        "hb.requests": "latchkey_http_requests_total",
        "hb.request.errors": "latchkey_http_request_errors_total",
        "http.server.request.duration": "latchkey_http_request_duration_seconds",
        "http.server.active_requests": "latchkey_http_active_requests",
    ]
    static let labelNames = ["http.route": "route", "http.request.method": "method", "http.response.status_code": "status"]

    /// Bootstraps the metrics system if it is not yet.
    static func bootstrap() { _ = registry }

    /// One job-token decision, by ability, result and the refusal's kind (never the projects involved: that is the audit log's).
    static func jobTokenDecision(_ ability: ProjectAbility, _ decision: Decision) {
        let reason: String
        switch decision {
        case .allowed: reason = "none"
        case .denied(let denial): reason = String(String(describing: denial).prefix { $0 != "(" })
        }
        Counter(
            label: "latchkey_job_token_decisions_total",
            dimensions: [("ability", ability.rawValue), ("result", decision.isAllowed ? "allowed" : "denied"), ("reason", reason)]
        ).increment()
    }

    /// Trace bytes a runner sent and the server stored.
    static func traceBytes(_ count: Int) {
        Counter(label: "latchkey_trace_bytes_total").increment(by: count)
    }

    /// How long one job claim took, from the runner's request to the answer (long-poll waits excluded).
    static func claimDuration(_ duration: Duration, claimed: Bool) {
        Timer(label: "latchkey_job_claim_duration_seconds", dimensions: [("claimed", claimed ? "true" : "false")]).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}
