import Foundation

/// Parses GitLab's human durations ("1h 30m", "30 minutes", "3600", "1 week") as ChronicDuration does.
///
/// GitLab runs ChronicDuration with exceptions on: any word it does not know makes the text invalid.
/// A bare number counts seconds, a month is 30 days and a year 365.25 days, `hh:mm:ss` is read from the right,
/// and a total of zero is not a duration. Spelled-out numbers ("two hours") are not supported.
public enum CIDuration {
    /// What an `expire_in:` says.
    public enum Expiry: Sendable, Equatable {
        /// `never`: kept until deleted.
        case never
        /// Expires this many seconds after the job finishes.
        case after(seconds: Int)
    }

    /// The longest duration we keep: 1,000 years. Longer ones are clamped to it, so a date computed from a duration
    /// always fits the store's millisecond timestamps.
    ///
    /// GitLab only checks that `expire_in` parses (Ruby's times do not overflow), so refusing `300000000 years` would refuse
    /// a file GitLab accepts; 1,000 years means the same thing in practice.
    public static let maximumSeconds = 31_557_600_000

    /// Seconds in `text` (at most `maximumSeconds`), or nil when GitLab would not accept it as a duration.
    public static func seconds(_ text: String) -> Int? {
        // Limits the work on hostile input; no duration anyone writes comes close.
        guard text.utf8.count <= 1024, let total = parse(text), !total.isNaN, total >= 1 else { return nil }
        return total >= Double(maximumSeconds) ? maximumSeconds : Int(total)
    }

    /// An `artifacts:expire_in` value, or nil when it is neither `never` nor a duration.
    public static func expiry(_ text: String) -> Expiry? {
        // GitLab's DurationParser accepts `never` in any case before trying ChronicDuration.
        if text.trimmingCharacters(in: .whitespaces).lowercased() == "never" { return .never }
        return seconds(text).map { .after(seconds: $0) }
    }

    private static let unitSeconds: [String: Double] = {
        let minute = 60.0, hour = 3600.0, day = 86400.0
        var table: [String: Double] = [:]
        for word in ["seconds", "second", "secs", "sec", "s"] { table[word] = 1 }
        for word in ["minutes", "minute", "mins", "min", "m"] { table[word] = minute }
        for word in ["hours", "hour", "hrs", "hr", "h"] { table[word] = hour }
        for word in ["days", "day", "dy", "d"] { table[word] = day }
        for word in ["weeks", "week", "wks", "wk", "w"] { table[word] = 7 * day }
        for word in ["months", "month", "mos", "mo"] { table[word] = 30 * day }
        for word in ["years", "year", "yrs", "yr", "y"] { table[word] = 365.25 * day }
        return table
    }()

    private static let joinWords: Set<String> = ["and", "with", "plus"]

    private enum Token: Equatable {
        case number(Double)
        case unit(Double)
    }

    private static func parse(_ text: String) -> Double? {
        let lowered = text.lowercased()
        let compact = lowered.filter { $0 != " " }
        if let clock = clockFormat(compact) { return clock }
        guard let tokens = tokenize(lowered), !tokens.isEmpty else { return nil }
        var total = 0.0
        for (index, token) in tokens.enumerated() {
            guard case .number(let value) = token else { continue }
            // A number followed by another number counts for nothing, as in ChronicDuration.
            var multiplier = 1.0
            if index + 1 < tokens.count {
                guard case .unit(let unit) = tokens[index + 1] else { continue }
                multiplier = unit
            }
            // Saturates at infinity on absurd input (clamped by `seconds`); never multiplies infinity by zero.
            total += value * multiplier
        }
        return total
    }

    /// "1:30:00" and the like: fields from the right are seconds, minutes, hours, days, weeks, months, years.
    private static func clockFormat(_ compact: String) -> Double? {
        guard compact.contains(":") else { return nil }
        let parts = compact.split(separator: ":", omittingEmptySubsequences: false)
        let multipliers: [Double] = [1, 60, 3600, 86400, 7 * 86400, 30 * 86400, 365.25 * 86400]
        guard parts.count >= 2, parts.count <= multipliers.count else { return nil }
        var total = 0.0
        for (index, part) in parts.reversed().enumerated() {
            guard let value = number(part) else { return nil }
            total += value * multipliers[index]
        }
        return total
    }

    private static func number<S: StringProtocol>(_ text: S) -> Double? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            text.filter({ $0 == "." }).count <= 1, text.last != "."
        else { return nil }
        return Double(String(text))
    }

    /// Splits digits from letters ("1h30m" reads as "1 h 30 m"); nil when a word is not a unit or a join word.
    private static func tokenize(_ text: String) -> [Token]? {
        var tokens: [Token] = []
        var current = ""
        var currentIsNumber = false
        func flush() -> Bool {
            defer { current = "" }
            guard !current.isEmpty else { return true }
            if currentIsNumber {
                guard let value = number(current) else { return false }
                tokens.append(.number(value))
            } else if let unit = unitSeconds[current] {
                tokens.append(.unit(unit))
            } else if !joinWords.contains(current) {
                return false
            }
            return true
        }
        for character in text {
            let isNumeric = character.isASCII && (character.isNumber || character == ".")
            if character == " " || character == "\t" || character == "\n" {
                guard flush() else { return nil }
            } else if current.isEmpty {
                current.append(character)
                currentIsNumber = isNumeric
            } else if isNumeric == currentIsNumber {
                current.append(character)
            } else {
                guard flush() else { return nil }
                current.append(character)
                currentIsNumber = isNumeric
            }
        }
        guard flush() else { return nil }
        // ChronicDuration reads "day" or "minute 30 sec" as if a 1 came first.
        if case .unit = tokens.first { tokens.insert(.number(1), at: 0) }
        return tokens
    }
}
