import Foundation

extension CronExpression {
    /// How many calendar years past the start `nextDate` searches: eight reaches every Feb 29, even across 2100.
    static let searchYears = 8

    /// The first time strictly after `date` that matches, in `timeZone`; nil if none within the next 8 calendar years.
    ///
    /// Matching is on the wall clock of `timeZone`. On a DST-forward day, times that do not exist are skipped (as
    /// Fugit does: `30 2 * * *` in New York does not run on that day). When clocks fall back, a repeated wall-clock
    /// time runs only at its first occurrence, so a daily job never runs twice; the cost is that hourly and
    /// sub-hourly schedules pause during the repeated hour. Never-matching expressions such as `0 0 31 2 *` return nil
    /// after a bounded search.
    public func nextDate(after date: Date, in timeZone: TimeZone) -> Date? {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        // Far outside any real schedule; also keeps the Int conversions below from trapping.
        guard seconds.isFinite, abs(seconds) < 1e13 else { return nil }
        let instant = Int(seconds)
        let start = CivilDateTime(localSeconds: instant + timeZone.secondsFromGMT(for: date)).addingOneMinute()
        let lastYear = start.year + Self.searchYears
        var wall = start
        // Each pass either returns or moves `wall` past a candidate that fell in a DST gap or in the repeated hour
        // before `date`; `nextWallClock` stops at `lastYear`, so the loop ends.
        while let candidate = nextWallClock(atOrAfter: wall, throughYear: lastYear) {
            if let resolved = candidate.firstInstant(in: timeZone), resolved > instant {
                return Date(timeIntervalSince1970: Double(resolved))
            }
            wall = candidate.addingOneMinute()
        }
        return nil
    }

    /// The first matching wall-clock minute at or after `start`, jumping over whole months, days and hours that
    /// cannot match.
    func nextWallClock(atOrAfter start: CivilDateTime, throughYear lastYear: Int) -> CivilDateTime? {
        var year = start.year
        var month = start.month
        var day = start.day
        var hour = start.hour
        var minute = start.minute
        while year <= lastYear {
            guard let nextMonth = months.next(atOrAfter: month) else {
                (year, month, day, hour, minute) = (year + 1, 1, 1, 0, 0)
                continue
            }
            if nextMonth != month {
                (month, day, hour, minute) = (nextMonth, 1, 0, 0)
            }
            guard let nextDay = firstMatchingDay(atOrAfter: day, year: year, month: month) else {
                (month, day, hour, minute) = (month + 1, 1, 0, 0)
                continue
            }
            if nextDay != day {
                (day, hour, minute) = (nextDay, 0, 0)
            }
            guard let nextHour = hours.next(atOrAfter: hour) else {
                (day, hour, minute) = (day + 1, 0, 0)
                continue
            }
            if nextHour != hour {
                (hour, minute) = (nextHour, 0)
            }
            guard let nextMinute = minutes.next(atOrAfter: minute) else {
                (hour, minute) = (hour + 1, 0)
                continue
            }
            return CivilDateTime(year: year, month: month, day: day, hour: hour, minute: nextMinute)
        }
        return nil
    }

    private func firstMatchingDay(atOrAfter day: Int, year: Int, month: Int) -> Int? {
        let lastDay = CivilDateTime.daysInMonth(year: year, month: month)
        guard day <= lastDay else { return nil }
        let weekdayOfFirst = CivilDateTime.weekday(year: year, month: month, day: 1)
        return (day...lastDay).first { matchesDay($0, weekday: (weekdayOfFirst + $0 - 1) % 7) }
    }
}
