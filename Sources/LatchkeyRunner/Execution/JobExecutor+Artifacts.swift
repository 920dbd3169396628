import Foundation
import LatchkeyCore

extension JobExecutor {
    /// Downloads each dependency's artifacts (with this job's token) and extracts them into the checkout.
    func downloadDependencies(_ job: JobPayload, workspace: Workspace, trace: TraceStream) async -> PhaseResult {
        for dependency in job.dependencies where dependency.artifactsFile != nil {
            await trace.write("Downloading artifacts for \(dependency.name) (\(dependency.id))...\n")
            let archive = workspace.runnerDirectory.appendingPathComponent("dependency-\(dependency.id).zip")
            defer { try? FileManager.default.removeItem(at: archive) }
            var status = 0
            for attempt in 0..<3 {
                if attempt > 0 { try? await Task.sleep(for: .seconds(1)) }
                try? FileManager.default.removeItem(at: archive)
                guard let answer = try? await api.downloadArtifacts(jobID: dependency.id, jobToken: job.token, to: archive) else { continue }
                status = answer
                if status < 500 { break }
            }
            guard status == 200 else {
                let message = "Downloading artifacts from coordinator... " + (status == 0 ? "error" : "\(status) \(Self.reasonPhrase(status))")
                await trace.write("\u{1B}[31;1mERROR: \(message)\u{1B}[0;m\n")
                return .failed(.failed(Self.failureReason(FailureReason.runnerSystemFailure, for: job), summary: "(system failure): \(message)"))
            }
            do {
                let count = try ArtifactArchive.extract(archive, into: workspace.projectDirectory)
                await trace.write("Downloading artifacts from coordinator... ok  id=\(dependency.id) responseStatus=200 OK entries=\(count)\n")
            } catch {
                let message = "cannot extract the artifacts of \(dependency.name) (\(dependency.id)): \(error)"
                await trace.write("\u{1B}[31;1mERROR: \(message)\u{1B}[0;m\n")
                return .failed(.failed(Self.failureReason(FailureReason.runnerSystemFailure, for: job), summary: "(system failure): \(message)"))
            }
        }
        return .ok
    }

    /// Archives and uploads each artifacts entry; returns a failure message when an upload failed (no files to upload is not a failure).
    func uploadArtifacts(_ specs: [JobPayload.ArtifactSpec], job: JobPayload, workspace: Workspace, trace: TraceStream) async -> String? {
        let collector = ArtifactCollector(root: workspace.projectDirectory)
        for (index, spec) in specs.enumerated() {
            guard spec.artifactFormat == "zip" || spec.artifactFormat == "gzip" else {
                await trace.write("\u{1B}[0;33mWARNING: \(spec.artifactType): artifact format \(spec.artifactFormat) is not supported by this runner\u{1B}[0;m\n")
                continue
            }
            let found = collector.collect(paths: spec.paths, exclude: spec.exclude)
            for pattern in found.refused {
                await trace.write("\u{1B}[31;1mERROR: \(pattern): path is outside the project directory (\(workspace.projectDirectory.path))\u{1B}[0;m\n")
            }
            for match in found.matches {
                if match.count == 0 {
                    await trace.write(
                        "\u{1B}[0;33mWARNING: \(match.pattern): no matching files. Ensure that the artifact path is relative to the working directory (\(workspace.projectDirectory.path))\u{1B}[0;m\n"
                    )
                } else {
                    await trace.write("\(match.pattern): found \(match.count) matching artifact files and directories\n")
                }
            }
            guard !found.paths.isEmpty else {
                await trace.write("\u{1B}[31;1mERROR: No files to upload\u{1B}[0;m\n")
                continue
            }
            let archive = workspace.runnerDirectory.appendingPathComponent("artifacts-\(index).\(spec.artifactFormat == "zip" ? "zip" : "gz")")
            defer { try? FileManager.default.removeItem(at: archive) }
            do {
                if spec.artifactFormat == "gzip" {
                    try ArtifactArchive.createGzip(at: archive, root: workspace.projectDirectory, paths: found.paths)
                } else {
                    try ArtifactArchive.create(at: archive, root: workspace.projectDirectory, paths: found.paths)
                }
            } catch {
                let message = "cannot create the artifacts archive: \(error)"
                await trace.write("\u{1B}[31;1mERROR: \(message)\u{1B}[0;m\n")
                return message
            }
            let label = "Uploading artifacts as \"\(spec.artifactType)\" to coordinator..."
            var response: ArtifactUploadResponse?
            for attempt in 0..<3 {
                if attempt > 0 { try? await Task.sleep(for: .seconds(1)) }
                response = try? await api.uploadArtifacts(
                    jobID: job.id, jobToken: job.token, archive: archive, artifactType: spec.artifactType, artifactFormat: spec.artifactFormat,
                    expireIn: spec.expireIn)
                if let response, response.status < 500 { break }
            }
            guard let response else {
                await trace.write("\u{1B}[31;1mERROR: \(label) error\u{1B}[0;m\n")
                return "uploading artifacts failed"
            }
            switch response.status {
            case 200, 201:
                await trace.write("\(label) \(response.status) \(Self.reasonPhrase(response.status))  id=\(job.id) responseStatus=\(response.status) \(Self.reasonPhrase(response.status))\n")
            case 413:
                await trace.write("\u{1B}[31;1mERROR: \(label) 413 Request Entity Too Large (too large archive)\u{1B}[0;m\n")
                return "too large archive"
            default:
                await trace.write("\u{1B}[31;1mERROR: \(label) \(response.status) \(Self.reasonPhrase(response.status)) \(response.message)\u{1B}[0;m\n")
                return "uploading artifacts failed with \(response.status)"
            }
        }
        return nil
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 413: "Request Entity Too Large"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: ""
        }
    }
}
