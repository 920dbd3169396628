import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore
import NIOPosix

/// `GET /projects/:id/pipelines/:pipeline_id/test_report` and `…/test_report_summary`: the pipeline's JUnit reports
/// (`artifacts:reports:junit`) read as GitLab's `Gitlab::Ci::Parsers::Test::Junit` reads them, one suite per job group.
struct PipelineTestReportsController {
    let authorizer: Authorizer
    let store: Store
    let artifacts: ArtifactStore

    /// Most uncompressed bytes one job's report may inflate to.
    static let maximumReportBytes = 32 * 1024 * 1024

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/pipelines/:pipeline_id/test_report", use: report)
        routes.get("projects/:id/pipelines/:pipeline_id/test_report_summary", use: summary)
        return routes
    }

    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> Response {
        try JSON.response(TestReportEntity(try await read(context)))
    }

    @Sendable func summary(_ request: Request, context: AppRequestContext) async throws -> Response {
        try JSON.response(TestReportSummaryEntity(try await read(context)))
    }

    /// GitLab's `read_build` on the pipeline's project, then every report of its latest jobs.
    private func read(_ context: AppRequestContext) async throws -> PipelineTestReport {
        let facts = try await authorizer.project(try context.parameters.require("id"), .readJob, actor: context.actor)
        guard let id = context.parameters.get("pipeline_id", as: Int64.self), let pipeline = try await store.pipelines.find(id: id),
            pipeline.projectID == facts.project.id
        else { throw APIError.notFound("Pipeline") }
        let reports = try await store.artifacts.reports(pipelineID: pipeline.id, fileType: "junit")
        let files = reports.map { (jobID: $0.jobID, jobName: $0.jobName, url: artifacts.url($0.artifact.storagePath)) }
        // Reading and inflating is blocking work: off the cooperative pool.
        return try await NIOThreadPool.singleton.runIfActive {
            var report = PipelineTestReport()
            for file in files {
                guard let data = try? Data(contentsOf: file.url) else {
                    report.fail(jobID: file.jobID, jobName: file.jobName, message: "JUnit data parsing failed: the report is missing")
                    continue
                }
                do {
                    let documents = try Gzip.members(Array(data), limit: Self.maximumReportBytes)
                    report.add(documents: documents, jobID: file.jobID, jobName: file.jobName)
                } catch Gzip.Failure.tooLarge {
                    report.fail(jobID: file.jobID, jobName: file.jobName, message: "JUnit data parsing failed: the report is larger than 32 MiB")
                } catch {
                    report.fail(jobID: file.jobID, jobName: file.jobName, message: "JUnit data parsing failed: the report is not gzip")
                }
            }
            return report
        }
    }
}

/// GitLab's `TestReportEntity`.
struct TestReportEntity: Encodable, Sendable {
    var totalTime: Double
    var totalCount: Int
    var successCount: Int
    var failedCount: Int
    var skippedCount: Int
    var errorCount: Int
    var testSuites: [Suite]

    struct Suite: Encodable, Sendable {
        var name: String
        var totalTime: Double
        var totalCount: Int
        var successCount: Int
        var failedCount: Int
        var skippedCount: Int
        var errorCount: Int
        @Nullable var suiteError: String?
        var testCases: [Case]
    }

    struct Case: Encodable, Sendable {
        var status: String
        var name: String
        var classname: String
        @Nullable var file: String?
        var executionTime: Double
        @Nullable var systemOutput: String?
        @Nullable var stackTrace: String?
        @Nullable var attachmentUrl: String?
        @Nullable var recentFailures: Int?
    }

    init(_ report: PipelineTestReport) {
        totalTime = report.totalTime
        totalCount = report.totalCount
        successCount = report.count(.success)
        failedCount = report.count(.failed)
        skippedCount = report.count(.skipped)
        errorCount = report.count(.error)
        testSuites = report.suites.map { suite in
            Suite(
                name: suite.name, totalTime: suite.totalTime, totalCount: suite.totalCount, successCount: suite.count(.success),
                failedCount: suite.count(.failed), skippedCount: suite.count(.skipped), errorCount: suite.count(.error), suiteError: suite.suiteError,
                testCases: suite.suiteError != nil ? [] : suite.sortedCases.map { testCase in
                    Case(
                        status: testCase.status.rawValue, name: testCase.name, classname: testCase.classname, file: testCase.file,
                        executionTime: testCase.executionTime, systemOutput: testCase.systemOutput, stackTrace: nil, attachmentUrl: nil, recentFailures: nil)
                })
        }
    }
}

/// GitLab's `TestReportSummaryEntity`.
struct TestReportSummaryEntity: Encodable, Sendable {
    var total: Total
    var testSuites: [Suite]

    struct Total: Encodable, Sendable {
        var time: Double
        var count: Int
        var success: Int
        var failed: Int
        var skipped: Int
        var error: Int
        @Nullable var suiteError: String?
    }

    struct Suite: Encodable, Sendable {
        var name: String
        var totalTime: Double
        var totalCount: Int
        var successCount: Int
        var failedCount: Int
        var skippedCount: Int
        var errorCount: Int
        var buildIds: [Int64]
        @Nullable var suiteError: String?
    }

    init(_ report: PipelineTestReport) {
        total = Total(
            time: report.totalTime, count: report.totalCount, success: report.count(.success), failed: report.count(.failed),
            skipped: report.count(.skipped), error: report.count(.error), suiteError: report.suiteError)
        testSuites = report.suites.map { suite in
            Suite(
                name: suite.name, totalTime: suite.totalTime, totalCount: suite.totalCount, successCount: suite.count(.success),
                failedCount: suite.count(.failed), skippedCount: suite.count(.skipped), errorCount: suite.count(.error), buildIds: suite.jobIDs,
                suiteError: suite.suiteError)
        }
    }
}
