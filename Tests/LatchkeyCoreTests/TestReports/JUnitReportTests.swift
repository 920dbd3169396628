import Foundation
import Testing

@testable import LatchkeyCore

@Suite("JUnit reports")
struct JUnitReportTests {
    static let sample = """
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuites name="rspec">
          <testsuite name="Models">
            <testcase classname="spec.user" name="is valid" file="./spec/user_spec.rb" time="0.25"/>
            <testcase classname="spec.user" name="rejects &lt;blank&gt; names" time="1.5">
              <failure message="expected true">Failure/Error: got false &#x2192; &amp;</failure>
              <system-out>[[ATTACHMENT|screenshots/user.png]]</system-out>
            </testcase>
            <testcase classname="spec.user" name="later"><skipped message="not today"/></testcase>
            <testcase classname="spec.db" name="connects" time="3"><error><![CDATA[Timeout <here>]]></error></testcase>
          </testsuite>
        </testsuites>
        """

    @Test("cases, statuses, outputs and GitLab's order; suites named after the job group")
    func read() throws {
        var report = PipelineTestReport()
        report.add(documents: [Array(Self.sample.utf8)], jobID: 7, jobName: "rspec 1/2")
        report.add(documents: [Array("<testsuite><testcase classname='spec.extra' name='second node' time='0.5'/></testsuite>".utf8)], jobID: 8, jobName: "rspec 2/2")
        let suite = try #require(report.suites.first)
        #expect(report.suites.count == 1 && suite.name == "rspec" && suite.jobIDs == [7, 8])
        #expect(suite.totalCount == 5 && suite.count(.success) == 2 && suite.count(.failed) == 1 && suite.count(.skipped) == 1 && suite.count(.error) == 1)
        #expect(suite.totalTime == 5.25)
        #expect(suite.sortedCases.map(\.name) == ["connects", "rejects <blank> names", "second node", "is valid", "later"])
        let failed = try #require(suite.cases.first { $0.status == .failed })
        #expect(failed.systemOutput == "Failure/Error: got false → &" && failed.attachment == "screenshots/user.png")
        #expect(suite.cases.first { $0.status == .skipped }?.systemOutput == "not today")
        #expect(suite.cases.first { $0.status == .error }?.systemOutput == "Timeout <here>")
        #expect(suite.cases.first { $0.name == "is valid" }?.file == "./spec/user_spec.rb")
    }

    @Test(
        "an unreadable document gives the suite GitLab's error and no cases; DOCTYPE (entities, XXE) is refused outright",
        arguments: [
            ("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><testsuite><testcase name=\"&a;\"/></testsuite>", "JUnit XML parsing failed: DOCTYPE is not allowed"),
            ("<testsuite><testcase name=\"a\">", "JUnit XML parsing failed: unclosed element testcase"),
            ("<testsuite><testcase></testsuite>", "JUnit XML parsing failed: mismatched end tag testsuite"),
            ("<html/>", "JUnit XML parsing failed: the root element is html, not testsuites or testsuite"),
            ("<testsuite><testcase name=\"&bogus;\"/></testsuite>", "JUnit XML parsing failed: undefined entity &bogus;"),
            ("<testsuite/><testsuite/>", "JUnit XML parsing failed: more than one root element"),
            ("not xml", "JUnit XML parsing failed: text outside the root element"),
            ("<testsuite>" + String(repeating: "<a>", count: 300) + "</testsuite>", "JUnit XML parsing failed: elements are nested too deeply"),
        ])
    func refused(document: String, message: String) {
        var report = PipelineTestReport()
        report.add(documents: [Array("<testsuite><testcase name='kept?'/></testsuite>".utf8), Array(document.utf8)], jobID: 1, jobName: "test")
        #expect(report.suites.first?.suiteError == message)
        #expect(report.totalCount == 0 && report.suiteError == message)
    }

    @Test("huge times are capped so totals stay finite (JSON cannot carry infinity)")
    func hugeTimes() throws {
        var report = PipelineTestReport()
        report.add(documents: [Array("<testsuite><testcase name='a' time='1e308'/><testcase name='b' time='1.7e308'/></testsuite>".utf8)], jobID: 1, jobName: "t")
        #expect(report.totalTime.isFinite && report.totalTime == 2 * JUnitReport.maximumCaseSeconds)
        _ = try JSONEncoder().encode(["total": report.totalTime])
    }

    @Test("a pipeline holds at most JUnitReport.maximumCases cases; past it the suite reports an error")
    func caseLimit() {
        var report = PipelineTestReport()
        report.budget = 3
        report.add(documents: [Array("<testsuite><testcase name='a'/><testcase name='b'/></testsuite>".utf8)], jobID: 1, jobName: "one")
        report.add(documents: [Array("<testsuite><testcase name='c'/><testcase name='d'/></testsuite>".utf8)], jobID: 2, jobName: "two")
        #expect(report.suites.map(\.totalCount) == [2, 0])
        #expect(report.suites.last?.suiteError == "JUnit data parsing failed: more than 100000 test cases")
    }

    @Test("suite names: parallel and matrix instances share their job's group", arguments: [
        ("rspec 1/3", "rspec"), ("rspec", "rspec"), ("test: [ruby, 3.2]", "test"), ("build 2/2: [linux]", "build"), ("a 1/2 3/4", "a"), ("v1/2", "v1/2"),
    ])
    func suiteNames(job: String, suite: String) {
        #expect(PipelineTestReport.suiteName(ofJob: job) == suite)
    }
}
