import Foundation

/// A date or date-time parameter (`created_before`, `last_used_after`, …) as Grape's `DateTime` coercion reads the forms clients send.
enum TimestampParameter {
    /// `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM[:SS[.fraction]]`, optionally ending in `Z` or `±HH[:MM]`; UTC when
    /// no zone is given. Nil for anything else, and for impossible dates (month 13, February 30th, hour 24).
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count <= 64 else { return nil }
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += count
            return value
        }
        func skip(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), skip(0x2D), let month = digits(2), skip(0x2D), let day = digits(2) else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else { return nil }
        var seconds = 0
        var fraction = 0.0
        var offset = 0
        if index < bytes.count {
            guard skip(0x54) || skip(0x74) || skip(0x20) else { return nil }
            guard let hour = digits(2), hour < 24, skip(0x3A), let minute = digits(2), minute < 60 else { return nil }
            seconds = hour * 3600 + minute * 60
            if skip(0x3A) {
                guard let second = digits(2), second < 60 else { return nil }
                seconds += second
                if skip(0x2E) {
                    var scale = 0.1
                    var any = false
                    while index < bytes.count, (0x30...0x39).contains(bytes[index]), scale > 1e-9 {
                        fraction += Double(bytes[index] - 0x30) * scale
                        scale /= 10
                        index += 1
                        any = true
                    }
                    guard any else { return nil }
                }
            }
            if skip(0x5A) || skip(0x7A) {
                offset = 0
            } else if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D {
                let sign = bytes[index] == 0x2D ? -1 : 1
                index += 1
                guard let hours = digits(2), hours <= 18 else { return nil }
                var minutes = 0
                if skip(0x3A) || (index < bytes.count && (0x30...0x39).contains(bytes[index])) {
                    guard let value = digits(2), value < 60 else { return nil }
                    minutes = value
                }
                offset = sign * (hours * 3600 + minutes * 60)
            }
            guard index == bytes.count else { return nil }
        }
        let epochSeconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + seconds - offset
        return Date(timeIntervalSince1970: Double(epochSeconds) + fraction)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
