import Foundation

/// A parsed cron expression: five fields (minute hour day-of-month month day-of-week), as GitLab's pipeline schedules accept.
///
/// Accepted syntax: `*`, numbers, `a-b`, `*/n`, `a-b/n`, `a/n` (from `a` to the field's end), comma lists, `JAN`–`DEC`
/// and `SUN`–`SAT` in any case, day-of-week 7 for Sunday, and the macros `@yearly @annually @monthly @weekly @daily
/// @midnight @hourly`. Not accepted (Fugit extensions GitLab would take): seconds as a sixth field, `L`, `#`, `%`,
/// and a trailing time zone; the zone travels separately as `cron_timezone`.
public struct CronExpression: Sendable, Equatable {
    public let text: String

    let minutes: CronField
    let hours: CronField
    let daysOfMonth: CronField
    let months: CronField
    let daysOfWeek: CronField
    // A day field counts as restricted unless it is literally `*`; when both are restricted a day matches if either
    // does (classic cron and Fugit's default), otherwise only the restricted one decides.
    let dayOfMonthIsRestricted: Bool
    let dayOfWeekIsRestricted: Bool

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
        "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]

    /// Parses `text`, throwing a message that names the first problem found.
    public init(_ text: String) throws(CronExpressionError) {
        self.text = text
        var fields = text.split(whereSeparator: \.isWhitespace)
        if fields.count == 1, fields[0].hasPrefix("@") {
            guard let expansion = Self.macros[fields[0].lowercased()] else {
                throw CronExpressionError("unknown macro \"\(fields[0])\"")
            }
            fields = expansion.split(separator: " ")
        }
        guard !fields.isEmpty else {
            throw CronExpressionError("cron expression is empty")
        }
        guard fields.count == 5 else {
            let seconds = fields.count == 6 ? " (a seconds field is not supported)" : ""
            throw CronExpressionError(
                "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)\(seconds)"
            )
        }
        minutes = try CronField(parsing: fields[0], as: .minute)
        hours = try CronField(parsing: fields[1], as: .hour)
        daysOfMonth = try CronField(parsing: fields[2], as: .dayOfMonth)
        months = try CronField(parsing: fields[3], as: .month)
        daysOfWeek = try CronField(parsing: fields[4], as: .dayOfWeek)
        dayOfMonthIsRestricted = fields[2] != "*"
        dayOfWeekIsRestricted = fields[4] != "*"
    }

    func matchesDay(_ day: Int, weekday: Int) -> Bool {
        switch (dayOfMonthIsRestricted, dayOfWeekIsRestricted) {
        case (true, true): daysOfMonth.contains(day) || daysOfWeek.contains(weekday)
        case (true, false): daysOfMonth.contains(day)
        case (false, true): daysOfWeek.contains(weekday)
        case (false, false): true
        }
    }

    func matches(_ wall: CivilDateTime) -> Bool {
        minutes.contains(wall.minute) && hours.contains(wall.hour) && months.contains(wall.month)
            && matchesDay(wall.day, weekday: CivilDateTime.weekday(year: wall.year, month: wall.month, day: wall.day))
    }
}
