import Testing

@testable import LatchkeyCore

@Suite("Cron expression parsing")
struct CronExpressionParsingTests {
    @Test(
        "Accepts the five-field syntax and macros GitLab schedules use",
        arguments: [
            "* * * * *", "0 0 * * *", "*/5 * * * *", "0-59/10 * * * *", "1,2,3 * * * *", "5/15 * * * *",
            "00 09 * * *", "0 0 1 JAN *", "0 0 1 jan-Mar *", "0 0 * * mon-fri", "0 0 * * Sun", "0 0 * * 7",
            "0 0 * * 0-7", "59 23 31 12 6", "0 0 29 2 *", "0 0 31 2 *", "  0   0 * * *  ", "0\t0 * * *",
            "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@DAILY",
        ]
    )
    func acceptsValidExpressions(text: String) throws {
        let expression = try CronExpression(text)
        #expect(expression.text == text)
    }

    @Test(
        "Rejects empty input, wrong field counts, out-of-range values and garbage",
        arguments: [
            "", "   ", "* * * *", "* * * * * *", "0 0 0 1 1 2025", "60 * * * *", "* 24 * * *", "* * 0 * *",
            "* * 32 * *", "* * * 0 *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *",
            "* * * * MON-", ",1 * * * *", "1,,2 * * * *", "1, * * * *", "1-2-3 * * * *", "*/ * * * *",
            "*/5/2 * * * *", "@reboot", "@never", "@", "@daily *", "JAN * * * *", "* * * MON *", "* * * * JAN",
            "* * * * monday", "+5 * * * *", "-5 * * * *", "1.5 * * * *", "? * * * *", "0 0 L * *", "0 0 * * 1#2",
            "0 9 * * sun%2", "99999999999999999999 * * * *", "\u{0663} * * * *", "* * * * * UTC", "*/-1 * * * *",
        ]
    )
    func rejectsInvalidExpressions(text: String) {
        #expect(throws: CronExpressionError.self) { try CronExpression(text) }
    }

    @Test("Error messages name the offending field and the allowed range")
    func errorMessagesAreSpecific() {
        let cases: [(text: String, fragment: String)] = [
            ("60 * * * *", "minute value 60 is out of range 0-59"),
            ("* 24 * * *", "hour value 24 is out of range 0-23"),
            ("* * * * 8", "day-of-week value 8 is out of range 0-7"),
            ("0 0 0 * * *", "seconds field is not supported"),
            ("", "empty"),
            ("@reboot", "unknown macro"),
            ("* * * FOO *", "month value \"FOO\""),
        ]
        for (text, fragment) in cases {
            do {
                _ = try CronExpression(text)
                Issue.record("\"\(text)\" parsed but should not")
            } catch {
                #expect(error.message.contains(fragment), "\(text): \(error.message)")
            }
        }
    }

    @Test("Lists, ranges, steps and names expand to the right values")
    func fieldsExpand() throws {
        let cases: [(text: String, kind: CronFieldKind, values: [Int])] = [
            ("*/15", .minute, [0, 15, 30, 45]),
            ("10-20/5", .minute, [10, 15, 20]),
            ("50/4", .minute, [50, 54, 58]),
            ("1,3,5-7", .hour, [1, 3, 5, 6, 7]),
            ("*/100", .minute, [0]),
            ("JAN,jul,Dec", .month, [1, 7, 12]),
            ("mon-FRI", .dayOfWeek, [1, 2, 3, 4, 5]),
            ("5-7", .dayOfWeek, [0, 5, 6]),
            ("7", .dayOfWeek, [0]),
            ("*/2", .dayOfWeek, [0, 2, 4, 6]),
            ("*", .dayOfMonth, Array(1...31)),
        ]
        for (text, kind, values) in cases {
            let field = try CronField(parsing: Substring(text), as: kind)
            #expect((0..<64).filter(field.contains) == values, "\(text) as \(kind.label)")
        }
    }

    @Test("Macros expand to the equivalent five-field expressions")
    func macrosExpand() throws {
        let pairs = [
            ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"), ("@weekly", "0 0 * * 0"),
            ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"),
        ]
        for (macro, expanded) in pairs {
            let a = try CronExpression(macro)
            let b = try CronExpression(expanded)
            #expect(a.minutes == b.minutes && a.hours == b.hours && a.daysOfMonth == b.daysOfMonth, "\(macro)")
            #expect(a.months == b.months && a.daysOfWeek == b.daysOfWeek, "\(macro)")
            #expect(a.dayOfMonthIsRestricted == b.dayOfMonthIsRestricted && a.dayOfWeekIsRestricted == b.dayOfWeekIsRestricted)
        }
    }

    @Test("Only a literal star leaves a day field unrestricted")
    func dayRestriction() throws {
        let both = try CronExpression("0 0 13 * 5")
        #expect(both.dayOfMonthIsRestricted && both.dayOfWeekIsRestricted)
        let stepped = try CronExpression("0 0 */2 * *")
        #expect(stepped.dayOfMonthIsRestricted && !stepped.dayOfWeekIsRestricted)
        let neither = try CronExpression("0 0 * * *")
        #expect(!neither.dayOfMonthIsRestricted && !neither.dayOfWeekIsRestricted)
    }

    @Test("Expressions with the same text are equal and different texts are not")
    func equality() throws {
        #expect(try CronExpression("0 * * * *") == CronExpression("0 * * * *"))
        #expect(try CronExpression("0 * * * *") != CronExpression("@hourly"))
    }
}
