import Foundation
import Testing

@testable import LatchkeyCore

@Suite("Cron expression next dates")
struct CronExpressionNextDateTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    /// An ISO 8601 timestamp with an explicit offset, so each expectation shows the wall clock it means.
    static func at(_ text: String) -> Date {
        guard let date = ISO8601DateFormatter().date(from: text) else { fatalError("bad fixture \(text)") }
        return date
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let cron: String
        let from: String
        let next: String?
        var testDescription: String { "\(cron) after \(from)" }
    }

    @Test(
        "Finds the next run in UTC",
        arguments: [
            Case(cron: "* * * * *", from: "2025-01-15T10:30:00Z", next: "2025-01-15T10:31:00Z"),
            Case(cron: "* * * * *", from: "2025-01-15T10:30:45Z", next: "2025-01-15T10:31:00Z"),
            Case(cron: "*/15 * * * *", from: "2025-01-15T10:31:00Z", next: "2025-01-15T10:45:00Z"),
            Case(cron: "*/15 * * * *", from: "2025-01-15T10:45:00Z", next: "2025-01-15T11:00:00Z"),
            Case(cron: "@hourly", from: "2025-01-15T10:30:00Z", next: "2025-01-15T11:00:00Z"),
            Case(cron: "30 4 * * *", from: "2025-01-15T05:00:00Z", next: "2025-01-16T04:30:00Z"),
            Case(cron: "0 0 1 * *", from: "2025-01-31T12:00:00Z", next: "2025-02-01T00:00:00Z"),
            Case(cron: "@yearly", from: "2025-06-01T00:00:00Z", next: "2026-01-01T00:00:00Z"),
            // 2025-01-17 is a Friday.
            Case(cron: "0 9 * * 1-5", from: "2025-01-17T10:00:00Z", next: "2025-01-20T09:00:00Z"),
            Case(cron: "0 9 * * MON-FRI", from: "2025-01-17T08:00:00Z", next: "2025-01-17T09:00:00Z"),
            Case(cron: "0 0 * * 7", from: "2025-01-15T00:00:00Z", next: "2025-01-19T00:00:00Z"),
            Case(cron: "@weekly", from: "2025-01-19T00:00:00Z", next: "2025-01-26T00:00:00Z"),
            // Both day fields restricted: the 13th or any Friday, whichever comes first (Friday 3 January).
            Case(cron: "0 0 13 * 5", from: "2025-01-01T00:00:00Z", next: "2025-01-03T00:00:00Z"),
            Case(cron: "0 0 13 * 5", from: "2025-01-10T00:00:00Z", next: "2025-01-13T00:00:00Z"),
            // Day-of-month stepped from a star still counts as restricted, so Sundays also match.
            Case(cron: "0 0 */10 * 0", from: "2025-01-01T00:00:00Z", next: "2025-01-05T00:00:00Z"),
            Case(cron: "0 12 * JAN,jul *", from: "2025-02-01T00:00:00Z", next: "2025-07-01T12:00:00Z"),
            Case(cron: "5-10/2 3 * * *", from: "2025-01-15T03:06:00Z", next: "2025-01-15T03:07:00Z"),
            Case(cron: "0 0 31 * *", from: "2025-01-31T01:00:00Z", next: "2025-03-31T00:00:00Z"),
            Case(cron: "59 23 31 12 *", from: "2025-12-31T23:59:00Z", next: "2026-12-31T23:59:00Z"),
            Case(cron: "0 0 1 1 *", from: "1969-12-31T23:59:30Z", next: "1970-01-01T00:00:00Z"),
        ]
    )
    func nextInUTC(example: Case) throws {
        let expression = try CronExpression(example.cron)
        #expect(expression.nextDate(after: Self.at(example.from), in: Self.utc) == example.next.map(Self.at))
    }

    @Test(
        "Leap days are found in leap years only, even across the 2100 gap",
        arguments: [
            Case(cron: "0 0 29 2 *", from: "2025-01-01T00:00:00Z", next: "2028-02-29T00:00:00Z"),
            Case(cron: "0 0 29 2 *", from: "2024-02-28T12:00:00Z", next: "2024-02-29T00:00:00Z"),
            Case(cron: "0 0 29 2 *", from: "2096-03-01T00:00:00Z", next: "2104-02-29T00:00:00Z"),
            Case(cron: "30 23 28-29 2 *", from: "2023-02-28T23:30:00Z", next: "2024-02-28T23:30:00Z"),
            Case(cron: "0 0 1 3 *", from: "2024-02-29T00:00:00Z", next: "2024-03-01T00:00:00Z"),
        ]
    )
    func leapDays(example: Case) throws {
        let expression = try CronExpression(example.cron)
        #expect(expression.nextDate(after: Self.at(example.from), in: Self.utc) == example.next.map(Self.at))
    }

    @Test(
        "Expressions that can never match return nil without searching forever",
        .timeLimit(.minutes(1)),
        arguments: ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "* * 31 2,4 *"]
    )
    func neverMatches(cron: String) throws {
        let expression = try CronExpression(cron)
        var start = Self.at("2025-01-01T00:00:00Z")
        for _ in 0..<200 {
            #expect(expression.nextDate(after: start, in: Self.newYork) == nil)
            start += 86_400 * 13
        }
    }

    @Test(
        "Follows the New York wall clock across daylight saving changes",
        arguments: [
            // 2025-03-09: 02:00 EST jumps to 03:00 EDT. 02:30 does not exist that day, so that run is skipped.
            Case(cron: "30 2 * * *", from: "2025-03-08T12:00:00-05:00", next: "2025-03-10T02:30:00-04:00"),
            Case(cron: "0 9 * * *", from: "2025-03-08T10:00:00-05:00", next: "2025-03-09T09:00:00-04:00"),
            Case(cron: "*/30 * * * *", from: "2025-03-09T01:45:00-05:00", next: "2025-03-09T03:00:00-04:00"),
            Case(cron: "0 3 * * *", from: "2025-03-09T01:59:00-05:00", next: "2025-03-09T03:00:00-04:00"),
            // 2025-11-02: 02:00 EDT falls back to 01:00 EST. A repeated time runs once, at its first occurrence.
            Case(cron: "30 1 * * *", from: "2025-11-02T00:00:00-04:00", next: "2025-11-02T01:30:00-04:00"),
            Case(cron: "30 1 * * *", from: "2025-11-02T01:30:00-04:00", next: "2025-11-03T01:30:00-05:00"),
            Case(cron: "45 1 * * *", from: "2025-11-02T01:10:00-05:00", next: "2025-11-03T01:45:00-05:00"),
            Case(cron: "0 * * * *", from: "2025-11-02T00:30:00-04:00", next: "2025-11-02T01:00:00-04:00"),
            Case(cron: "0 * * * *", from: "2025-11-02T01:00:00-04:00", next: "2025-11-02T02:00:00-05:00"),
            Case(cron: "0 12 * * *", from: "2025-11-01T13:00:00-04:00", next: "2025-11-02T12:00:00-05:00"),
            Case(cron: "0 0 * * *", from: "2025-06-30T23:59:59-04:00", next: "2025-07-01T00:00:00-04:00"),
        ]
    )
    func nextInNewYork(example: Case) throws {
        let expression = try CronExpression(example.cron)
        #expect(expression.nextDate(after: Self.at(example.from), in: Self.newYork) == example.next.map(Self.at))
    }

    @Test("Half-hour offsets shift the run, not the wall clock")
    func halfHourOffset() throws {
        let kolkata = try #require(TimeZone(identifier: "Asia/Kolkata"))
        let midnight = try CronExpression("@daily")
        #expect(midnight.nextDate(after: Self.at("2025-01-15T00:00:00Z"), in: kolkata) == Self.at("2025-01-15T18:30:00Z"))
    }

    @Test("Successive runs of */15 are exactly fifteen minutes apart")
    func successiveRuns() throws {
        let expression = try CronExpression("*/15 * * * *")
        var current = Self.at("2025-12-31T22:07:00Z")
        var runs: [Date] = []
        for _ in 0..<20 {
            current = try #require(expression.nextDate(after: current, in: Self.utc))
            runs.append(current)
        }
        #expect(runs.first == Self.at("2025-12-31T22:15:00Z"))
        #expect(zip(runs, runs.dropFirst()).allSatisfy { $1.timeIntervalSince($0) == 900 })
    }

    @Test(
        "Agrees with a minute-by-minute scan through Calendar around both DST changes",
        arguments: ["*/7 1-3 * * *", "30 2 * * *", "0 * * * *", "15,45 0-4 * 3,11 *", "0 0 9 3,11 0", "59 1 * * *"],
        ["2025-03-08T00:00:00-05:00", "2025-11-01T00:00:00-04:00"]
    )
    func agreesWithBruteForce(cron: String, windowStart: String) throws {
        let expression = try CronExpression(cron)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.newYork
        let start = Self.at(windowStart)
        let end = start + 60 * 3_600

        func wall(_ date: Date) -> CivilDateTime {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
            return CivilDateTime(year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!)
        }
        var expected: [Date] = []
        var instant = start + 60
        while instant <= end {
            // The second pass through a repeated hour shows the same wall clock as one hour earlier; it never runs.
            if expression.matches(wall(instant)), wall(instant) != wall(instant - 3_600) {
                expected.append(instant)
            }
            instant += 60
        }

        var actual: [Date] = []
        var current = start
        while let next = expression.nextDate(after: current, in: Self.newYork), next <= end {
            actual.append(next)
            current = next
        }
        #expect(actual == expected)
        #expect(!expected.isEmpty)
    }
}
