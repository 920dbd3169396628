import Foundation
import LatchkeyCore

/// A job's trace: masks everything written to it, keeps the masked bytes in a local file and sends them to the server in order.
///
/// Masking happens here, before any byte leaves the runner; the server masks again on arrival.
/// The local file lets the runner resend from any offset the server asks for (416) or from 0
/// when the final checksum does not match (412).
actor TraceStream {
    /// What the server said about the job while receiving trace.
    enum RemoteState: Equatable, Sendable {
        case running
        /// `Job-Status: canceling`.
        case canceling
        /// 403, 404, or `Job-Status: canceled`/`failed`: the job is over on the server.
        case gone
    }

    /// The outcome of sending what is pending.
    struct SendResult: Equatable, Sendable {
        var remoteState: RemoteState = .running
        /// Everything written so far has been acknowledged.
        var complete: Bool
    }

    static let truncationNotice = Array(
        "\n\u{1B}[31;1mJob's log exceeded limit of %d bytes.\nJob execution will continue but no more output will be collected.\u{1B}[0;m\n".utf8)

    let jobID: Int64
    let jobToken: String
    private let api: any RunnerAPI
    private let settings: ExecutorSettings
    private var masker: SecretMasker
    private let fileURL: URL
    private let handle: FileHandle
    /// Masked bytes stored locally.
    private(set) var size = 0
    /// Bytes the server has acknowledged.
    private(set) var sentOffset = 0
    private var crc: UInt32 = 0
    private(set) var truncated = false
    /// The last time the server heard from us (PATCH or PUT), for keep-alives.
    private(set) var lastContact = ContinuousClock.now
    private(set) var lastSend = ContinuousClock.now

    init(jobID: Int64, jobToken: String, rules: SecretMaskingRules, directory: URL, api: any RunnerAPI, settings: ExecutorSettings) throws {
        self.jobID = jobID
        self.jobToken = jobToken
        self.api = api
        self.settings = settings
        self.masker = SecretMasker(rules: rules)
        self.fileURL = directory.appendingPathComponent("trace.log")
        try PrivateFile.write([], to: fileURL.path)
        self.handle = try FileHandle(forUpdating: fileURL)
    }

    deinit {
        try? handle.close()
    }

    // MARK: Writing

    /// Masks and stores raw output.
    func write(_ bytes: some Sequence<UInt8>) {
        store(masker.mask(bytes))
    }

    /// Masks and stores a runner message.
    func write(_ text: String) {
        write(Array(text.utf8))
    }

    /// Stores the bytes the masker still held back (call once, when no more output can come).
    func finishMasking() {
        store(masker.finish())
    }

    private func store(_ masked: [UInt8]) {
        guard !masked.isEmpty, !truncated else { return }
        var bytes = masked
        if size + bytes.count > settings.traceLimit {
            bytes = Self.utf8Prefix(bytes, maxLength: max(0, settings.traceLimit - size))
            let notice = String(decoding: Self.truncationNotice, as: UTF8.self).replacingOccurrences(of: "%d", with: String(settings.traceLimit))
            bytes += Array(notice.utf8)
            truncated = true
        }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(bytes))
        } catch {
            // A trace that cannot be stored locally cannot be sent; the job still runs and reports.
            return
        }
        crc = CRC32.update(crc, bytes)
        size += bytes.count
    }

    /// The longest prefix of `bytes` of at most `maxLength` bytes that does not end inside a UTF-8 sequence.
    static func utf8Prefix(_ bytes: [UInt8], maxLength: Int) -> [UInt8] {
        guard bytes.count > maxLength else { return bytes }
        var end = maxLength
        // Step back over continuation bytes to the lead byte of the last (possibly cut) character.
        var lead = end - 1
        while lead >= 0, lead > end - 4, bytes[lead] & 0xC0 == 0x80 { lead -= 1 }
        if lead >= 0 {
            let byte = bytes[lead]
            let length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            if lead + length > end { end = lead }
        }
        return Array(bytes[..<end])
    }

    // MARK: Reading

    var pendingByteCount: Int { size - sentOffset }
    var checksum: String { "crc32:" + String(repeating: "0", count: 8 - String(crc, radix: 16).count) + String(crc, radix: 16) }

    /// The stored (masked) trace.
    func contents() throws -> [UInt8] {
        try handle.seek(toOffset: 0)
        return Array(try handle.read(upToCount: size) ?? Data())
    }

    private func read(from offset: Int, count: Int) throws -> [UInt8] {
        try handle.seek(toOffset: UInt64(offset))
        return Array(try handle.read(upToCount: count) ?? Data())
    }

    // MARK: Sending

    /// Sends the whole trace again from offset 0 (after a 412 on the final update).
    func restartFromZero() {
        sentOffset = 0
    }

    /// Notes that the server heard from us another way (a keep-alive `PUT`).
    func noteContact() {
        lastContact = .now
    }

    /// Sends pending bytes in patches of at most `maxPatchSize` until all are acknowledged or the server stops us.
    func sendPending() async -> SendResult {
        var result = SendResult(complete: sentOffset >= size)
        var stalls = 0
        lastSend = .now
        while sentOffset < size {
            let start = sentOffset
            let bytes: [UInt8]
            do {
                bytes = try read(from: start, count: min(settings.maxPatchSize, size - start))
            } catch {
                return result
            }
            guard !bytes.isEmpty else { return result }
            let response: TracePatchResponse
            do {
                response = try await api.patchTrace(id: jobID, jobToken: jobToken, offset: start, bytes: bytes)
            } catch {
                return result
            }
            lastContact = .now
            switch response.status {
            case 200, 201, 202:
                let acknowledged = response.remoteSize ?? start + bytes.count
                // Never beyond what we have, never below zero; a smaller size means the server lost bytes and we resend them.
                sentOffset = min(max(acknowledged, 0), size)
            case 416:
                guard let remote = response.remoteSize, remote >= 0, remote <= size else { return result }
                sentOffset = remote
            case 403, 404:
                result.remoteState = .gone
                return result
            default:
                return result
            }
            switch response.jobStatus {
            case "canceling": result.remoteState = .canceling
            case "canceled", "failed": result.remoteState = .gone
            default: break
            }
            if result.remoteState == .gone { return result }
            // A server that keeps acknowledging nothing new must not keep us here forever.
            if sentOffset <= start {
                stalls += 1
                if stalls >= 3 { return result }
            } else {
                stalls = 0
            }
        }
        result.complete = true
        return result
    }

    /// Removes the local copy.
    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(at: fileURL)
    }
}
