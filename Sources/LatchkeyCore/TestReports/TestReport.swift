import Foundation

/// One test case of a JUnit report, as GitLab's `Gitlab::Ci::Reports::TestCase` keeps it.
public struct TestCase: Sendable, Equatable {
    /// GitLab's statuses, in the order its API lists cases.
    public enum Status: String, Sendable, CaseIterable {
        case error, failed, success, skipped
    }

    public var status: Status
    public var name: String
    public var classname: String
    public var file: String?
    /// Seconds.
    public var executionTime: Double
    /// The failure, error or skip message (its text, else its `message` attribute).
    public var systemOutput: String?
    /// The `[[ATTACHMENT|path]]` a failed case's `system-out` names (a screenshot, usually).
    public var attachment: String?

    public init(status: Status, name: String, classname: String, file: String? = nil, executionTime: Double = 0, systemOutput: String? = nil, attachment: String? = nil) {
        self.status = status
        self.name = name
        self.classname = classname
        self.file = file
        self.executionTime = executionTime
        self.systemOutput = systemOutput
        self.attachment = attachment
    }
}

/// The cases of one job group (GitLab names a suite after its job, `parallel:` instances together), or why they could not be read.
public struct TestSuiteReport: Sendable, Equatable {
    public var name: String
    /// Cases keyed as GitLab keys them (class and name): a case reported twice counts once, the later report winning.
    public private(set) var cases: [TestCase] = []
    private var index: [String: Int] = [:]
    /// The jobs whose reports were read.
    public var jobIDs: [Int64] = []
    /// Set once any of the suite's reports could not be read; GitLab then shows the error instead of the cases.
    public var suiteError: String?

    public init(name: String) { self.name = name }

    public mutating func add(_ testCase: TestCase) {
        let key = testCase.classname + "\u{0}" + testCase.name
        if let existing = index[key] { cases[existing] = testCase } else {
            index[key] = cases.count
            cases.append(testCase)
        }
    }

    public func count(_ status: TestCase.Status) -> Int { suiteError == nil ? cases.count { $0.status == status } : 0 }
    public var totalCount: Int { suiteError == nil ? cases.count : 0 }
    /// Seconds, rounded to two places as GitLab's `TestSuite#total_time`.
    public var totalTime: Double { suiteError == nil ? (cases.reduce(0) { $0 + $1.executionTime } * 100).rounded() / 100 : 0 }

    /// The cases in GitLab's order: by status (errors, failures, successes, skipped), slowest first within each.
    public var sortedCases: [TestCase] {
        cases.enumerated().sorted { left, right in
            let l = TestCase.Status.allCases.firstIndex(of: left.element.status) ?? 0
            let r = TestCase.Status.allCases.firstIndex(of: right.element.status) ?? 0
            if l != r { return l < r }
            if left.element.executionTime != right.element.executionTime { return left.element.executionTime > right.element.executionTime }
            return left.offset < right.offset
        }.map(\.element)
    }
}

/// GitLab's JUnit parser (`Gitlab::Ci::Parsers::Test::Junit`) over `XMLReader`: `testsuites` or `testsuite` at the root,
/// `testcase` elements anywhere below, their status from a `failure`, `error` or `skipped` child.
public enum JUnitReport {
    /// Why a report was not read: its message becomes the suite's error.
    public struct Failure: Error, Equatable, Sendable {
        public var message: String
    }

    /// Most test cases one pipeline's reports may hold; past it the suite reports an error rather than use unbounded memory.
    public static let maximumCases = 100_000
    /// A case's time is capped (a year of seconds) so that sums over 100,000 cases stay finite: `time="1e308"` twice would
    /// otherwise add up to infinity, which JSON cannot carry.
    public static let maximumCaseSeconds = 365.0 * 24 * 3600

    /// Longest kept message of one case (GitLab trims what it shows too).
    public static let maximumOutput = 64 * 1024

    /// Adds the cases of one JUnit document to `suite`; `budget` is the number of cases still allowed in the pipeline.
    public static func read(_ document: [UInt8], into suite: inout TestSuiteReport, budget: inout Int) throws(Failure) {
        var reader = XMLReader(document)
        var stack: [String] = []
        var current: TestCase?
        var outcome: (element: String, text: String, message: String?)?
        var systemOut: String?
        var found: [TestCase] = []
        do {
            while let event = try reader.next() {
                switch event {
                case .start(let name, let attributes):
                    if stack.isEmpty, name != "testsuites", name != "testsuite" {
                        throw Failure(message: "JUnit XML parsing failed: the root element is \(name), not testsuites or testsuite")
                    }
                    stack.append(name)
                    if name == "testcase" {
                        guard current == nil else { throw Failure(message: "JUnit XML parsing failed: a testcase inside a testcase") }
                        current = TestCase(
                            status: .success, name: attributes["name"] ?? "", classname: attributes["classname"] ?? "", file: attributes["file"],
                            executionTime: Double(attributes["time"] ?? "").flatMap { $0.isFinite && $0 >= 0 ? min($0, maximumCaseSeconds) : nil } ?? 0)
                        systemOut = nil
                    } else if current != nil, outcome == nil, stack.dropLast().last == "testcase", ["failure", "error", "skipped"].contains(name) {
                        outcome = (name, "", attributes["message"])
                    } else if current != nil, stack.dropLast().last == "testcase", name == "system-out" {
                        systemOut = ""
                    }
                case .text(let text):
                    if let last = stack.last, outcome?.element == last, outcome!.text.utf8.count < maximumOutput { outcome!.text += text }
                    if stack.last == "system-out", systemOut != nil, systemOut!.utf8.count < maximumOutput { systemOut! += text }
                case .end(let name):
                    stack.removeLast()
                    if name == "testcase", var testCase = current {
                        if let outcome {
                            testCase.status = outcome.element == "failure" ? .failed : outcome.element == "error" ? .error : .skipped
                            let text = outcome.text.trimmingCharacters(in: .whitespacesAndNewlines)
                            let output = text.isEmpty ? outcome.message : text
                            testCase.systemOutput = output.map { String($0.prefix(maximumOutput)) }
                            if testCase.status == .failed || testCase.status == .error { testCase.attachment = systemOut.flatMap(attachment(in:)) }
                        }
                        guard budget > 0 else { throw Failure(message: "JUnit data parsing failed: more than \(maximumCases) test cases") }
                        budget -= 1
                        found.append(testCase)
                        current = nil
                        outcome = nil
                        systemOut = nil
                    }
                }
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as XMLReader.Failure {
            throw Failure(message: "JUnit XML parsing failed: \(error.message)")
        } catch {
            throw Failure(message: "JUnit XML parsing failed")
        }
        for testCase in found { suite.add(testCase) }
    }

    /// `[[ATTACHMENT|path]]` in a case's output, as GitLab reads it.
    static func attachment(in text: String) -> String? {
        guard let open = text.range(of: "[[ATTACHMENT|"), let close = text.range(of: "]]", range: open.upperBound..<text.endIndex) else { return nil }
        let path = text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
        return path.isEmpty ? nil : path
    }
}

/// A pipeline's test report: one suite per job group, in the order the jobs were made.
public struct PipelineTestReport: Sendable, Equatable {
    public private(set) var suites: [TestSuiteReport] = []
    /// Test cases still allowed before the pipeline's reports are too large to show.
    public var budget = JUnitReport.maximumCases

    public init() {}

    /// GitLab's suite name for a job (`Ci::Build#group_name`): `parallel:` instances (`rspec 1/3`, `test: [a, b]`) share one.
    public static func suiteName(ofJob name: String) -> String {
        var name = Substring(name)
        while true {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            if trimmed.hasSuffix("]"), let open = trimmed.lastIndex(of: "["), trimmed[..<open].hasSuffix(":") || trimmed[..<open].hasSuffix(": ") {
                name = Substring(trimmed[..<open]).dropLast(trimmed[..<open].hasSuffix(": ") ? 2 : 1)
                continue
            }
            let parts = trimmed.split(separator: " ")
            if parts.count > 1, let last = parts.last, last.split(separator: "/").count == 2, last.split(separator: "/").allSatisfy({ $0.allSatisfy(\.isNumber) }) {
                name = Substring(parts.dropLast().joined(separator: " "))
                continue
            }
            return trimmed
        }
    }

    /// Reads one job's JUnit documents (the members of its gzip report) into that job's suite; a document that cannot be read
    /// gives the suite GitLab's `suite_error` instead of cases.
    public mutating func add(documents: [[UInt8]], jobID: Int64, jobName: String) {
        let name = Self.suiteName(ofJob: jobName)
        let index: Int
        if let existing = suites.firstIndex(where: { $0.name == name }) { index = existing } else {
            suites.append(TestSuiteReport(name: name))
            index = suites.count - 1
        }
        suites[index].jobIDs.append(jobID)
        guard suites[index].suiteError == nil else { return }
        for document in documents {
            do {
                try JUnitReport.read(document, into: &suites[index], budget: &budget)
            } catch {
                suites[index].suiteError = error.message
                return
            }
        }
    }

    /// A suite whose report could not be read at all (not gzip, too large).
    public mutating func fail(jobID: Int64, jobName: String, message: String) {
        let name = Self.suiteName(ofJob: jobName)
        if let existing = suites.firstIndex(where: { $0.name == name }) {
            suites[existing].jobIDs.append(jobID)
            suites[existing].suiteError = suites[existing].suiteError ?? message
        } else {
            var suite = TestSuiteReport(name: name)
            suite.jobIDs = [jobID]
            suite.suiteError = message
            suites.append(suite)
        }
    }

    public var totalTime: Double { (suites.reduce(0) { $0 + $1.totalTime } * 100).rounded() / 100 }
    public var totalCount: Int { suites.reduce(0) { $0 + $1.totalCount } }
    public func count(_ status: TestCase.Status) -> Int { suites.reduce(0) { $0 + $1.count(status) } }
    /// The first suite error, as GitLab's summary shows one for the whole.
    public var suiteError: String? { suites.lazy.compactMap(\.suiteError).first }
}
