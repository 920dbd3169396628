import Foundation
import LatchkeyCore

/// How dates, durations and statuses read on the pages.
enum WebFormat {
    static func date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d UTC", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    static func ago(_ date: Date, now: Date = Date()) -> String {
        let seconds = Int(now.timeIntervalSince(date))
        switch seconds {
        case ..<60: return "just now"
        case ..<3600: return plural(seconds / 60, "minute") + " ago"
        case ..<86400: return plural(seconds / 3600, "hour") + " ago"
        case ..<(86400 * 30): return plural(seconds / 86400, "day") + " ago"
        default: return self.date(date)
        }
    }

    static func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }

    static func duration(_ seconds: Double?) -> String? {
        guard let seconds else { return nil }
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return String(format: "%dm %02ds", total / 60, total % 60) }
        return String(format: "%dh %02dm", total / 3600, (total % 3600) / 60)
    }

    static func statusLabel(_ raw: String) -> String {
        switch raw {
        case "success": "passed"
        case "manual": "manual"
        case "scheduled": "delayed"
        default: raw
        }
    }

    static func size(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1024 * 1024 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        return String(format: "%.1f MiB", Double(bytes) / 1024 / 1024)
    }
}

/// A status badge.
struct StatusView {
    var status: String
    var label: String

    init(_ raw: String) {
        status = raw
        label = WebFormat.statusLabel(raw)
    }

    init(status: String, label: String) {
        self.status = status
        self.label = label
    }
}
