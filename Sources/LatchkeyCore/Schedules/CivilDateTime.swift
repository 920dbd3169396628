import Foundation

/// A proleptic-Gregorian wall-clock time to the minute, with no time zone attached.
struct CivilDateTime: Sendable, Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }

    /// The wall clock reading `seconds` after 1970-01-01 00:00, seconds dropped.
    init(localSeconds seconds: Int) {
        let days = Self.floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civil(fromDays: days)
        self.init(year: year, month: month, day: day, hour: secondOfDay / 3_600, minute: secondOfDay % 3_600 / 60)
    }

    var localSeconds: Int {
        Self.days(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60
    }

    func addingOneMinute() -> CivilDateTime {
        CivilDateTime(localSeconds: localSeconds + 60)
    }

    /// The earliest instant (seconds since 1970 UTC) at which `timeZone` shows this wall clock; nil inside a DST gap.
    ///
    /// Offsets are probed a day either side, which finds both readings of a repeated hour; zones do not change offset
    /// twice within two days.
    func firstInstant(in timeZone: TimeZone) -> Int? {
        let wall = localSeconds
        var earliest: Int?
        for probe in [wall - 86_400, wall, wall + 86_400] {
            let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(probe)))
            let candidate = wall - offset
            guard timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(candidate))) == offset else { continue }
            earliest = min(earliest ?? candidate, candidate)
        }
        return earliest
    }

    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// 0 = Sunday … 6 = Saturday, as cron numbers days.
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        // 1970-01-01 was a Thursday.
        let remainder = (days(year: year, month: month, day: day) + 4) % 7
        return remainder < 0 ? remainder + 7 : remainder
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Inverse of `days(year:month:day:)` (Howard Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func floorDivide(_ numerator: Int, _ denominator: Int) -> Int {
        let quotient = numerator / denominator
        return numerator % denominator < 0 ? quotient - 1 : quotient
    }
}
