import Foundation
import Testing

@testable import LatchkeyCore

@Suite("Cron time zone names")
struct CronTimeZoneTests {
    @Test(
        "Resolves tz database names and Rails names to the right zone",
        arguments: [
            ("UTC", 0), ("Etc/UTC", 0), ("GMT", 0), ("Etc/GMT+12", -12 * 3_600), ("America/New_York", -5 * 3_600),
            ("Eastern Time (US & Canada)", -5 * 3_600), ("Pacific Time (US & Canada)", -8 * 3_600),
            ("Asia/Kolkata", 19_800), ("Mumbai", 19_800), ("Europe/London", 0), ("Tokyo", 9 * 3_600),
        ]
    )
    func resolvesKnownNames(name: String, januaryOffset: Int) throws {
        let zone = try #require(CronTimeZone.resolve(name))
        // 2025-01-15T12:00:00Z, outside northern daylight saving time.
        #expect(zone.secondsFromGMT(for: Date(timeIntervalSince1970: 1_736_942_400)) == januaryOffset)
    }

    @Test("Maps Rails names to their IANA identifiers")
    func mapsRailsNames() {
        #expect(CronTimeZone.resolve("Pacific Time (US & Canada)")?.identifier == "America/Los_Angeles")
        #expect(CronTimeZone.resolve("Eastern Time (US & Canada)")?.identifier == "America/New_York")
    }

    @Test(
        "Rejects names GitLab would reject",
        arguments: ["", " ", "Nowhere/City", "america/new_york", "utc", "GMT+5", "UTC-0300", "+05:00", "Eastern Time"]
    )
    func rejectsUnknownNames(name: String) {
        #expect(CronTimeZone.resolve(name) == nil)
    }
}
