import Foundation
import LatchkeyTestSupport
import Testing

/// A real registry (Debian's docker-registry, token auth pointing at the live server) and a real client (skopeo) inside real
/// jobs, authenticating with `CI_REGISTRY_USER` / `CI_REGISTRY_PASSWORD`.
@Suite(
    "Container registry with the job token, end to end", .serialized,
    .enabled(if: RegistryFixture.unavailableReason == nil, Comment(rawValue: RegistryFixture.unavailableReason ?? "")))
struct RegistryTests {
    let server: LiveServer.Handle
    let registry: String

    init() async throws {
        server = try await LiveServer.shared.start()
        registry = try await LiveServer.shared.registry()
    }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    func call(_ method: String, _ path: String, as headers: [String: String]? = nil, _ json: [String: any Sendable]? = nil) async throws -> HTTP.Response {
        try await HTTP.request(method, "\(server.url)/api/v4/\(path)", headers: headers ?? root, json: json)
    }

    func created(_ method: String, _ path: String, _ json: [String: any Sendable], as headers: [String: String]? = nil) async throws -> [String: Any] {
        let response = try await call(method, path, as: headers, json)
        #expect(response.status == 201, "\(method) \(path): \(response.status) \(response.text)")
        return response.object
    }

    /// A private project in the group, made by root, holding `files` pushed with real git.
    func project(_ path: String, group: (id: Int, path: String), files: [String: String]) async throws -> Int {
        let id = try #require(try await created("POST", "projects", ["name": path, "path": path, "namespace_id": group.id, "visibility": "private"])["id"] as? Int)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-registry-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        for (name, content) in files { try Data(content.utf8).write(to: work.appendingPathComponent(name)) }
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "initial"], in: work)
        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/\(group.path)/\(path).git"
        try GitFixtures.git(["push", "-q", remote, "main"], in: work)
        return id
    }

    /// Runs a pipeline as `user` with the variables and returns its job's status and trace.
    func run(_ projectID: Int, as user: [String: String], _ variables: [String: String]) async throws -> (status: String, trace: String) {
        let pipeline = try await created(
            "POST", "projects/\(projectID)/pipeline", ["ref": "main", "variables": variables.map { ["key": $0.key, "value": $0.value] }], as: user)
        let pipelineID = try #require(pipeline["id"] as? Int)
        let (jobID, status) = try await eventually("pipeline \(pipelineID) to finish", timeout: .seconds(180)) { () -> (Int, String)? in
            let job = try await call("GET", "projects/\(projectID)/pipelines/\(pipelineID)/jobs").array.first
            guard let id = job?["id"] as? Int, let status = job?["status"] as? String, ["success", "failed", "canceled"].contains(status) else { return nil }
            return (id, status)
        }
        return (status, try await call("GET", "projects/\(projectID)/jobs/\(jobID)/trace").text)
    }

    /// Builds a one-layer OCI image layout in `img` with POSIX tools only (tar, sha256sum), tagged `1`, holding `hello.txt`.
    static let buildImage = #"""
        set -e
        rm -rf img rootfs && mkdir -p img/blobs/sha256 rootfs
        printf '%s\n' "$1" > rootfs/hello.txt
        tar -C rootfs -cf layer.tar hello.txt
        blob() { digest=$(sha256sum "$1" | cut -d' ' -f1); size=$(wc -c < "$1" | tr -d ' '); mv "$1" "img/blobs/sha256/$digest"; }
        blob layer.tar; layer=$digest; layer_size=$size
        printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$layer" > config.json
        blob config.json; config=$digest; config_size=$size
        printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' "$config" "$config_size" "$layer" "$layer_size" > manifest.json
        blob manifest.json
        printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}' "$digest" "$size" > img/index.json
        printf '{"imageLayoutVersion":"1.0.0"}' > img/oci-layout
        """#

    /// One script for every step: it pushes to `$PUSH_TO` and pulls `$TARGET`, both `$CI_REGISTRY_IMAGE/app:1` unless given.
    static let ciScript = #"""
        [ -n "${STEP:-}" ] || exit 0
        PUSH_TO=${PUSH_TO:-$CI_REGISTRY_IMAGE/app:1}
        TARGET=${TARGET:-$CI_REGISTRY_IMAGE/app:1}
        sh build-image.sh "made by $CI_PROJECT_PATH"
        creds="$CI_REGISTRY_USER:$CI_REGISTRY_PASSWORD"
        if skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-creds "$CI_REGISTRY_USER:$CI_REGISTRY_PASSWORD" oci:img:1 "docker://$PUSH_TO"; then
          echo "push $PUSH_TO: ok"
        else
          echo "push $PUSH_TO: refused"
        fi
        if skopeo inspect --tls-verify=false --creds "$creds" "docker://$TARGET" > inspect.json; then
          echo "inspect $TARGET: ok $(tr -d ' \n' < inspect.json | grep -o '"Digest":"[^"]*"')"
          rm -rf pulled
          skopeo --insecure-policy copy -q --src-tls-verify=false --src-creds "$creds" "docker://$TARGET" dir:pulled
          for blob in pulled/*; do tar -xOf "$blob" hello.txt 2>/dev/null | sed 's/^/pulled says: /' || true; done
        else
          echo "inspect $TARGET: refused"
        fi
        """#

    static let ciFile = "job:\n  script:\n    - sh ci.sh\n"

    @Test("a job pushes and pulls its project's image with CI_REGISTRY_PASSWORD; another project's job pulls it only once allowlisted and never pushes there")
    func pushAndPull() async throws {
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let group = try await created("POST", "groups", ["name": "registry-\(suffix)", "path": "registry-\(suffix)", "visibility": "private"])
        let namespace = (id: try #require(group["id"] as? Int), path: "registry-\(suffix)")
        let files = [".gitlab-ci.yml": Self.ciFile, "ci.sh": Self.ciScript, "build-image.sh": Self.buildImage]
        let app = try await project("app", group: namespace, files: files)
        let consumer = try await project("consumer", group: namespace, files: files)
        let user = try await created(
            "POST", "users", ["username": "registry-dev-\(suffix)", "name": "Dev", "email": "registry-dev-\(suffix)@example.com", "password": "a-long-password-\(suffix)"])
        let dev = try #require(user["id"] as? Int)
        let pat = try await created("POST", "users/\(dev)/personal_access_tokens", ["name": "e2e", "scopes": ["api"]])
        let devHeaders = ["PRIVATE-TOKEN": try #require(pat["token"] as? String)]
        // The job's user could push and pull both projects itself: only the job token's limits stand in the way.
        for project in [app, consumer] { _ = try await created("POST", "projects/\(project)/members", ["user_id": dev, "access_level": 30]) }

        let image = "\(registry)/\(namespace.path)/app/app:1"
        let own = try await run(app, as: devHeaders, ["STEP": "own"])
        #expect(own.status == "success", "\(own.trace)")
        #expect(own.trace.contains("push \(image): ok"), "\(own.trace)")
        #expect(own.trace.contains("inspect \(image): ok \"Digest\":\"sha256:"))
        #expect(own.trace.contains("pulled says: made by \(namespace.path)/app"))
        #expect(!own.trace.contains("glcbt-"), "the token never shows in the trace")

        // Without an allowlist entry, consumer's job gets no pull on app's image, and never a push into app.
        let intruder = "\(registry)/\(namespace.path)/app/intruder:1"
        let refused = try await run(consumer, as: devHeaders, ["STEP": "refused", "PUSH_TO": intruder, "TARGET": image])
        #expect(refused.trace.contains("push \(intruder): refused"), "\(refused.trace)")
        #expect(refused.trace.contains("inspect \(image): refused"), "\(refused.trace)")
        #expect(!refused.trace.contains("pulled says"))

        // Once app admits consumer, consumer's job pulls app's image; pushing there is still refused.
        _ = try await created("POST", "projects/\(app)/job_token_scope/allowlist", ["target_project_id": consumer])
        let allowed = try await run(consumer, as: devHeaders, ["STEP": "allowed", "PUSH_TO": intruder, "TARGET": image])
        #expect(allowed.trace.contains("inspect \(image): ok"), "\(allowed.trace)")
        #expect(allowed.trace.contains("pulled says: made by \(namespace.path)/app"))
        #expect(allowed.trace.contains("push \(intruder): refused"))
        #expect(!allowed.trace.contains("glcbt-"))

        // And consumer's own image is its own business.
        let second = try await run(consumer, as: devHeaders, ["STEP": "own"])
        #expect(second.status == "success", "\(second.trace)")
        #expect(second.trace.contains("push \(registry)/\(namespace.path)/consumer/app:1: ok"))
        #expect(second.trace.contains("pulled says: made by \(namespace.path)/consumer"))
    }
}
