import Foundation
import Hummingbird
import LatchkeyCore

extension WebPages {
    /// The part of a stored trace a page shows: at most `traceLimit` bytes from a line start, complete lines only while the
    /// job may still write, rendered from the masked bytes and masked again.
    struct TraceWindow {
        /// Where the shown bytes start and end in the stored trace.
        var start: Int
        var end: Int
        /// The number of the first shown line.
        var firstNumber: Int
        var rendered: RenderedJobLog
        var truncated: Bool { start > 0 }
    }

    func traceWindow(_ data: Data, job: Job) async throws -> TraceWindow {
        let bytes = [UInt8](data)
        var start = 0
        if bytes.count > Self.traceLimit {
            let cut = bytes.count - Self.traceLimit
            start = bytes[cut...].firstIndex(of: 0x0A).map { $0 + 1 } ?? cut
        }
        var end = bytes.count
        if !job.status.isFinished {
            // A line still being written is shown once complete, so the live tail never sends half a line twice.
            end = bytes[start...].lastIndex(of: 0x0A).map { $0 + 1 } ?? start
        }
        let firstNumber = 1 + bytes[..<start].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        // The stored trace is masked, but stripping escapes and section markers can join pieces into a secret: mask the shown text again.
        var masker = SecretMasker(rules: try await environment.traceRules(for: job))
        let rendered = RenderedJobLog(bytes: Array(bytes[start..<end]), masker: &masker)
        return TraceWindow(start: start, end: end, firstNumber: firstNumber, rendered: rendered)
    }

    /// What `trace.json` answers: the rendered lines after `offset`, where to ask next, whether the job has ended, and what
    /// the page's header shows of the job now (badge, duration, the buttons the viewer may use, the refusal notices).
    struct TraceUpdate: Codable {
        var html: String
        var offset: Int
        var complete: Bool
        /// The status label ("passed", "failed", …) and its badge class suffix.
        var status: String
        var statusClass: String
        var duration: String?
        var canPlay: Bool
        var canRetry: Bool
        var canCancel: Bool
        /// The distinct refusal notices of the shown trace, as the page's "Job token" panel lists them (text only, no markup).
        var refusals: [Refusal]

        struct Refusal: Codable {
            var text: String
            var count: Int
        }
    }

    /// The job page's buttons for a viewer who may (`canUpdate`) or may not update the job.
    struct JobButtons {
        var canPlay: Bool
        var canRetry: Bool
        var canCancel: Bool

        init(_ job: Job, canUpdate: Bool) {
            canPlay = canUpdate && [.manual, .scheduled].contains(job.status)
            canCancel = canUpdate && [.created, .pending, .running, .scheduled].contains(job.status)
            canRetry = canUpdate && !job.retried && [.success, .failed, .canceled].contains(job.status)
        }
    }

    /// `GET …/-/jobs/:id/trace.json?offset=N`: the job page's live tail, behind the same `read_build` decision as the page.
    func jobTraceUpdate(_ web: inout WebRequest, _ path: String, id: Int64) async throws -> Response {
        let (job, facts) = try await self.job(web, path, id: id, .readJob)
        let data = environment.traces.read(jobID: job.id)
        let window = try await traceWindow(data, job: job)
        let asked = web.request.uri.queryParameters.get("offset").flatMap { Int($0) } ?? 0
        let offset = min(max(asked, window.start), window.end)
        let skipped = data[data.startIndex + window.start..<data.startIndex + offset].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        let html = offset < window.end ? JobLogHTML.render(window.rendered.log, firstNumber: window.firstNumber, from: skipped) : ""
        let status = StatusView(job.status.rawValue)
        let buttons = JobButtons(job, canUpdate: may(web, .updateJob, facts))
        let update = TraceUpdate(
            html: html, offset: window.end, complete: job.status.isFinished, status: status.label, statusClass: status.status,
            duration: WebFormat.duration(job.duration), canPlay: buttons.canPlay, canRetry: buttons.canRetry, canCancel: buttons.canCancel,
            refusals: window.rendered.refusals.map { TraceUpdate.Refusal(text: $0.text, count: $0.count) })
        var headers = Self.securityHeaders
        headers[.contentType] = "application/json; charset=utf-8"
        var response = Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(update))))
        finish(&response, web)
        return response
    }
}
