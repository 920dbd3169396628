import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore
import NIOCore

/// `GET /projects/:id/repository/archive[.format]`: the repository at `sha` (a commit, branch or tag; the default branch when
/// absent), or only `path` inside it, as `tar.gz`, `zip` or `tar`, streamed from `git archive` (its own gzip, never a filter
/// command) with GitLab's file name. Needs read_code; a job token is no credential here (not in GitLab's job-token table).
struct RepositoryArchiveController {
    let environment: ServerEnvironment

    /// Most bytes one archive may send; past it the child is killed and the download ends short (no archive of a sane repository
    /// comes near it, and a bigger one would tie up a process and the connection for minutes).
    static let maxArchiveBytes = 2 << 30

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/repository/archive", use: archive)
        routes.get("projects/:id/repository/archive.{format}", use: archive)
        return routes
    }

    /// The formats served, by the names GitLab accepts, with git's format and the file extension.
    static func format(_ name: String) -> (git: String, extension: String)? {
        switch name {
        case "tar.gz", "tgz", "gz": ("tar.gz", "tar.gz")
        case "zip": ("zip", "zip")
        case "tar": ("tar", "tar")
        default: nil
        }
    }

    @Sendable func archive(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let formatName = try parameters.string("format") ?? context.parameters.get("format") ?? "tar.gz"
        guard let format = Self.format(formatName) else {
            if ["tar.bz2", "tbz", "tbz2", "tb2", "bz2"].contains(formatName) {
                throw APIError(.badRequest, error: "format \(formatName) is not served by Latchkey; ask for tar.gz, zip or tar")
            }
            throw APIError(.badRequest, error: "format does not have a valid value")
        }
        let path: String
        do { path = try RepositoryPath.parse(try parameters.string("path") ?? "") } catch { throw APIError.invalid("path") }
        if parameters.has("exclude_paths") { throw APIError(.badRequest, error: "exclude_paths is not supported by Latchkey") }
        let project = facts.project
        let ref = try parameters.string("sha").flatMap { $0.isEmpty ? nil : $0 } ?? project.defaultBranch
        let repositories = environment.repositories
        guard Git.isSafeRef(ref), let sha = await repositories.resolve(projectID: project.id, ref: ref) else { throw APIError.notFound("File") }
        let repository = repositories.path(projectID: project.id).path
        if !path.isEmpty {
            guard (try? await Git.run(["-C", repository, "cat-file", "-e", "\(sha):\(path)"])) != nil else { throw APIError.notFound("File") }
        }
        // GitLab's `archive_prefix`: project, ref with `/` as `-`, the sha, and the path with `/` as `-`.
        var segments = [project.path, ref.replacingOccurrences(of: "/", with: "-"), sha]
        if !path.isEmpty { segments.append(path.replacingOccurrences(of: "/", with: "-")) }
        let prefix = Self.safeName(segments.joined(separator: "-"))
        var arguments = [
            // The internal gzip, whatever a git configuration says: no filter command (and no shell) runs.
            "-c", "tar.tar.gz.command=git archive gzip", "-c", "tar.tgz.command=git archive gzip",
            "-C", repository, "archive", "--format=\(format.git)", "--prefix=\(prefix)/", sha,
        ]
        if !path.isEmpty { arguments += ["--", ":(literal)\(path)"] }
        let slot = try await environment.gitSlots.acquire(for: context.actor, context: context, what: "archives")
        let process = try Git.start(arguments)
        // Read on an event loop: a large archive's compression holds no pool thread while git works. A reader dropped unread
        // (a HEAD request) closes its pipe, so git ends on its next write instead of blocking for good.
        let output: PipeReader
        let first: ByteBuffer
        do {
            guard let descriptor = process.takeOutputDescriptor() else { throw APIError.notFound("File") }
            output = try await PipeReader.open(descriptor)
            first = try await output.read() ?? ByteBuffer()
        } catch {
            process.signal(SIGKILL)
            _ = await Self.wait(process)
            throw error
        }
        if first.readableBytes == 0 {
            let status = await Self.wait(process)
            guard status == 0 else { throw APIError.notFound("File") }
        }
        var headers: HTTPFields = [:]
        headers[.contentType] = "application/octet-stream"
        headers[.contentDisposition] = "attachment; filename=\"\(prefix).\(format.extension)\""
        headers[HTTPField.Name("Content-Transfer-Encoding")!] = "binary"
        headers[.cacheControl] = "max-age=0, private, must-revalidate, no-store, no-cache"
        let limit = Self.maxArchiveBytes
        let logger = context.logger
        let deadline = SendDeadline(connection: context.connection, limit: environment.settings.idleTimeout)
        let body = ResponseBody { writer in
            // The slot is held until git has sent its last byte.
            defer { withExtendedLifetime(slot) {} }
            var sent = 0
            var chunk: ByteBuffer? = first
            do {
                while let bytes = chunk, bytes.readableBytes > 0 {
                    sent += bytes.readableBytes
                    if sent > limit {
                        logger.warning("archive over its bound; the download ends short", metadata: ["bytes": "\(limit)"])
                        break
                    }
                    try await deadline.write(bytes, to: &writer)
                    chunk = try await output.read()
                }
            } catch {
                output.close()
                process.signal(SIGKILL)
                _ = await Self.wait(process)
                throw error
            }
            output.close()
            if chunk != nil { process.signal(SIGKILL) }
            _ = await Self.wait(process)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    private static func wait(_ process: Subprocess) async -> Int32 {
        (try? await Git.pool.runIfActive { process.waitForExit() }) ?? -1
    }

    /// A file and directory name of `[A-Za-z0-9._-]` only, so it is safe in a header and as the archive's top directory.
    static func safeName(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)) ? scalar : "-"
        }))
    }
}
