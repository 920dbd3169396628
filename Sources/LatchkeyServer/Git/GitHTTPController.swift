import Foundation
import HTTPTypes
import Hummingbird
import Logging
import LatchkeyCore
import LatchkeyStore
import NIOCore

/// Git smart HTTP (`/<full_path>.git/info/refs`, `git-upload-pack`, `git-receive-pack`), authenticated here and served by `git http-backend`.
struct GitHTTPController {
    let environment: ServerEnvironment
    let pipelines: PipelineCreator

    /// A parsed git request path.
    struct GitPath: Equatable {
        enum Service: String { case uploadPack = "git-upload-pack", receivePack = "git-receive-pack" }
        var projectPath: String
        /// What follows the project path: `info/refs`, `git-upload-pack` or `git-receive-pack`.
        var endpoint: String

        /// Recognises `/<path>[.git]/(info/refs|git-upload-pack|git-receive-pack)`.
        init?(_ path: String) {
            let decoded = path.removingPercentEncoding ?? path
            for endpoint in ["/info/refs", "/git-upload-pack", "/git-receive-pack"] where decoded.hasSuffix(endpoint) {
                var project = String(decoded.dropLast(endpoint.count).dropFirst())
                if project.hasSuffix(".git") { project = String(project.dropLast(4)) }
                guard !project.isEmpty, !project.contains(".."), !project.hasPrefix("/"), !project.contains("//") else { return nil }
                self.projectPath = project
                self.endpoint = String(endpoint.dropFirst())
                return
            }
            return nil
        }

        func service(query: String?) -> Service? {
            switch endpoint {
            case "git-upload-pack": return .uploadPack
            case "git-receive-pack": return .receivePack
            default:
                return query.flatMap { Service(rawValue: $0) }
            }
        }
    }

    /// Answers a git request, or nil if the path is not a git path (so routing goes on).
    func respond(to request: Request, context: AppRequestContext) async throws -> Response? {
        guard let gitPath = GitPath(request.uri.path) else { return nil }
        guard let service = gitPath.service(query: request.uri.queryParameters.get("service")) else {
            return plain(.forbidden, "Unsupported git service")
        }
        let actor: Actor
        do {
            actor = try await Authenticator(environment: environment).actor(for: request, sources: .git, address: context.remoteAddress?.ipAddress)
        } catch Authenticator.Failure.unavailable(let error) {
            throw error
        } catch {
            return challenge("HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped.")
        }
        let notFound = "The project you were looking for could not be found or you don't have permission to view it."
        guard let project = try await environment.store.projects.find(fullPath: gitPath.projectPath) else {
            return actor.user == nil ? challenge(nil) : plain(.notFound, notFound)
        }
        let facts = try await environment.authorizer.facts(for: project, actor: actor)
        let ability: ProjectAbility = service == .receivePack ? .pushCode : .downloadCode
        switch await environment.authorizer.decide(actor, ability, facts) {
        case .allowed:
            break
        case .denied(let denial):
            if actor.user == nil { return challenge(nil) }
            switch denial {
            case .notFound, .unauthenticated: return plain(.notFound, notFound)
            case .jobNotRunning:
                return challenge(nil)
            case .jobTokenScope, .jobTokenOutboundScope, .jobTokenPolicyMissing, .jobTokenPermissionMissing:
                return plain(.forbidden, denial.explanation)
            case .insufficientScope, .blocked, .insufficientRole, .notAJobTokenAbility, .botAccount:
                if service == .receivePack, AccessPolicy.decide(actor, .downloadCode, on: facts).isAllowed {
                    return plain(.forbidden, "You are not allowed to upload code.")
                }
                if AccessPolicy.decide(actor, .readProject, on: facts).isAllowed {
                    return plain(.forbidden, "You are not allowed to download code from this project.")
                }
                return plain(.notFound, notFound)
            }
        }
        guard let slot = await environment.gitSlots.acquire(GitSlots.key(for: actor, address: context.remoteAddress?.ipAddress)) else {
            var response = plain(.tooManyRequests, "Too many git requests at once with these credentials (at most \(environment.gitSlots.limit)); retry later.")
            response.headers[.retryAfter] = "10"
            return response
        }
        let deadline = SendDeadline(connection: context.connection, limit: environment.settings.idleTimeout)
        return try await runBackend(
            request, gitPath: gitPath, service: service, project: project, actor: actor, slot: slot, deadline: deadline, logger: context.logger)
    }

    private func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func challenge(_ text: String?) -> Response {
        var response = plain(.unauthorized, text ?? "HTTP Basic: Access denied")
        response.headers[.wwwAuthenticate] = "Basic realm=\"GitLab\""
        return response
    }

    /// Streams the request body to git while reading its CGI head, so neither side blocks on a full pipe.
    private func readHead(of process: CGIProcess, body: RequestBody, stdinDone: CompletionFlag) async throws -> CGIProcess.Head {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer {
                    stdinDone.set()
                    process.inputFinished()
                }
                do {
                    for try await chunk in body {
                        guard try await process.write(chunk) else { break }
                    }
                } catch {
                    await process.closeInput()
                    throw error
                }
                await process.closeInput()
            }
            let head = try await process.readHead { stdinDone.isSet }
            try await group.waitForAll()
            return head
        }
    }

    private func runBackend(
        _ request: Request, gitPath: GitPath, service: GitPath.Service, project: Project, actor: Actor, slot: GitSlots.Slot, deadline: SendDeadline,
        logger: Logger
    ) async throws -> Response {
        let pushLog = service == .receivePack && request.method == .post
            ? FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-push-\(UUID().uuidString)") : nil
        var cgi: [String: String] = [
            "GIT_PROJECT_ROOT": environment.repositories.root.path,
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": "/\(project.id).git/\(gitPath.endpoint)",
            "REQUEST_METHOD": request.method.rawValue,
            "QUERY_STRING": request.uri.query ?? "",
            "CONTENT_TYPE": request.headers[.contentType] ?? "",
            "REMOTE_USER": actor.user?.username ?? "",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "core.hooksPath",
            "GIT_CONFIG_VALUE_0": environment.repositories.hooksDirectory.path,
        ]
        if let length = request.headers[.contentLength] { cgi["CONTENT_LENGTH"] = length }
        if let encoding = request.headers[.contentEncoding] { cgi["HTTP_CONTENT_ENCODING"] = encoding }
        if let protocolHeader = request.headers[HTTPField.Name("Git-Protocol")!] { cgi["GIT_PROTOCOL"] = protocolHeader }
        if let pushLog { cgi["LATCHKEY_PUSH_LOG"] = pushLog.path }
        // Protected branches: the pre-receive hook refuses, ref by ref, what this pusher may not change.
        let push = pushLog == nil ? nil : try await environment.protectedBranchPushEnvironment(
            project: project, actor: actor, facts: environment.authorizer.facts(for: project, actor: actor))
        if let push { cgi.merge(push.variables) { $1 } }
        let pushRules = push?.file
        // Leaked tokens: the same hook streams the pushed objects here first; a live token among them is revoked and the push refused.
        let tokenScan = pushLog == nil ? nil : try PushTokenScan()
        if let tokenScan { cgi.merge(tokenScan.environment) { $1 } }

        let process = try await CGIProcess.start(command: Git.httpBackend, environment: cgi)
        let stdinDone = CompletionFlag()
        let head: CGIProcess.Head
        do {
            head = try await readHead(of: process, body: request.body, stdinDone: stdinDone)
        } catch {
            // The client went away (or went silent past the idle timeout) mid-body: git is ended, not left waiting for the rest.
            process.terminate()
            for file in [pushRules, pushLog].compactMap({ $0 }) { try? FileManager.default.removeItem(at: file) }
            throw error
        }
        let pipelines = self.pipelines
        let environment = self.environment
        let leaks = LeakedTokenGuard(environment: environment)
        let body = ResponseBody { writer in
            // The slot is held until git has sent its last byte.
            defer { withExtendedLifetime(slot) {} }
            let ended = CompletionFlag()
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    if let tokenScan { group.addTask { await tokenScan.serve(ended: ended, leaks: leaks, project: project, authorID: actor.user?.id) } }
                    defer { ended.set() }
                    if head.leftover.readableBytes > 0 { try await deadline.write(head.leftover, to: &writer) }
                    while let chunk = try await process.read() { try await deadline.write(chunk, to: &writer) }
                    _ = await process.wait()
                    ended.set()
                    try await group.waitForAll()
                }
            } catch {
                process.terminate()
                if let pushRules { try? FileManager.default.removeItem(at: pushRules) }
                throw error
            }
            if let pushRules { try? FileManager.default.removeItem(at: pushRules) }
            // Pipelines exist before git sees the push finish, so a client that lists them right after finds them.
            if let pushLog {
                await environment.recordRepositoryMetadata(project)
                // A push made with a job token starts no pipeline (no job can trigger itself forever).
                if let user = actor.signedInUser {
                    await pipelines.pushed(logFile: pushLog, project: project, user: user)
                } else {
                    try? FileManager.default.removeItem(at: pushLog)
                }
            }
            try await writer.finish(nil)
        }
        var headers = head.headers
        headers[.cacheControl] = headers[.cacheControl] ?? "no-cache"
        return Response(status: head.status, headers: headers, body: body)
    }
}
