import Foundation

/// The set of values one cron field allows, as a bitmask (every field's values fit below 64).
struct CronField: Sendable, Equatable {
    let bits: UInt64

    init(bits: UInt64) {
        self.bits = bits
    }

    func contains(_ value: Int) -> Bool {
        (0..<64).contains(value) && bits & (1 << UInt64(value)) != 0
    }

    /// The smallest allowed value that is `>= value`, or nil when none is left in this field.
    func next(atOrAfter value: Int) -> Int? {
        guard value < 64 else { return nil }
        let remaining = bits & (UInt64.max << UInt64(max(value, 0)))
        return remaining == 0 ? nil : remaining.trailingZeroBitCount
    }
}

/// The five positions of a cron expression, with their bounds and accepted names.
enum CronFieldKind: Sendable, CaseIterable {
    case minute, hour, dayOfMonth, month, dayOfWeek

    var label: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    /// The values a number may take in this field; day-of-week also accepts 7 for Sunday.
    var bounds: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    /// Where `*` and an open-ended `a/n` stop; for day-of-week that is Saturday, so `*/2` does not add a second Sunday.
    var openUpperBound: Int {
        self == .dayOfWeek ? 6 : bounds.upperBound
    }

    var names: [String: Int] {
        switch self {
        case .month:
            ["JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12]
        case .dayOfWeek:
            ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]
        default:
            [:]
        }
    }
}

extension CronField {
    /// Parses one field: a comma list of `*`, `n`, `a-b`, each optionally followed by `/step`.
    init(parsing text: Substring, as kind: CronFieldKind) throws(CronExpressionError) {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else {
                throw CronExpressionError("\(kind.label) field \"\(text)\" has an empty list item")
            }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else {
                throw CronExpressionError("\(kind.label) field item \"\(item)\" has more than one step")
            }
            let step = parts.count == 2 ? try Self.step(parts[1], in: item, kind: kind) : 1
            let base = parts[0]
            let lower: Int
            let upper: Int
            if base == "*" {
                lower = kind.bounds.lowerBound
                upper = kind.openUpperBound
            } else {
                let ends = base.split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2 else {
                    throw CronExpressionError("\(kind.label) field item \"\(item)\" is not a valid range")
                }
                lower = try Self.value(ends[0], kind: kind)
                if ends.count == 2 {
                    upper = try Self.value(ends[1], kind: kind)
                } else {
                    // `5/15` means `5-59/15`, as Fugit and Vixie-derived crons read it.
                    upper = parts.count == 2 ? kind.openUpperBound : lower
                }
                guard lower <= upper else {
                    throw CronExpressionError("\(kind.label) range \"\(base)\" runs backwards")
                }
            }
            for value in stride(from: lower, through: upper, by: step) {
                let normalised = kind == .dayOfWeek && value == 7 ? 0 : value
                bits |= 1 << UInt64(normalised)
            }
        }
        self.init(bits: bits)
    }

    private static func step(_ text: Substring, in item: Substring, kind: CronFieldKind) throws(CronExpressionError) -> Int {
        guard let step = decimal(text), step >= 1 else {
            throw CronExpressionError("\(kind.label) field item \"\(item)\" needs a step of at least 1")
        }
        // A step wider than any field selects only the first value; clamping keeps `stride` from overflowing.
        return min(step, 64)
    }

    private static func value(_ text: Substring, kind: CronFieldKind) throws(CronExpressionError) -> Int {
        if let number = decimal(text) {
            guard kind.bounds.contains(number) else {
                throw CronExpressionError(
                    "\(kind.label) value \(text) is out of range \(kind.bounds.lowerBound)-\(kind.bounds.upperBound)"
                )
            }
            return number
        }
        if let named = kind.names[text.uppercased()] {
            return named
        }
        throw CronExpressionError("\(kind.label) value \"\(text)\" is not a number\(kind.names.isEmpty ? "" : " or a name")")
    }

    /// ASCII digits only: `Int.init` would also take `+5` and other scripts' digits would pass `isNumber`.
    private static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 4, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            // Longer digit strings cannot be in range; report them as out of range rather than as garbage.
            if text.utf8.count > 4, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
                return Int.max
            }
            return nil
        }
        return Int(text)
    }
}
