import Foundation
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// The leaking forms of issue 12, printed by a real job with its real `CI_JOB_TOKEN` and a masked variable:
/// neither the stored trace (API) nor the web job page may show any of them.
@Suite("Masking, end to end", .serialized)
struct MaskingEndToEndTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    /// The job's script: every form a hostile job used to get a secret past the masker. Only tools in /usr/bin (the sandbox).
    static let leakScript = #"""
        T="$CI_JOB_TOKEN"
        B="${T#glcbt-}"
        HEAD="$(printf '%s' "$T" | cut -c1-10)"
        REST="$(printf '%s' "$T" | cut -c11-)"
        echo "== base64, wrapped at 76"
        printf 'gitlab-ci-token:%s' "$T" | base64
        echo "== xxd -p"
        printf 'gitlab-ci-token:%s' "$T" | xxd -p
        printf '%s' "$T" | xxd -p -u
        echo "== base64 -w4"
        printf '%s' "$T" | base64 -w4
        echo "== base32"
        printf '%s' "$T" | base32
        printf 'x%s' "$T" | base32
        echo "== UTF-16"
        printf 'token=%s\n' "$T" | iconv -f UTF-8 -t UTF-16LE
        echo "== body"
        echo "body=$B"
        echo "== colour"
        printf '%s\033[0m%s\n' "$HEAD" "$REST"
        printf 'glc\033[31mbt-%s\033[0m\n' "$B"
        echo "== carriage return"
        printf '%s\r%s\n' "$HEAD" "$REST"
        echo "== section marker"
        printf '%s\033[0Ksection_start:1700000000:fake[collapsed=true]\r\033[0K%s\n' "$HEAD" "$REST"
        printf '%s\033[0Ksection_end:1700000001:fake\r\033[0K%s\n' "$HEAD" "$REST"
        echo "== double base64"
        printf '%s' "$LEAKY_VALUE" | base64 | base64
        printf 'v=%s\n' "$LEAKY_VALUE" | base64 -w0 | base64
        echo "== echo | base64"
        echo "nl:$(echo $CI_JOB_TOKEN | base64):end"
        echo "nl:$(echo $LEAKY_VALUE | base64):end"
        echo "== URL encoders"
        python3 -c 'import os, urllib.parse as u; v = os.environ["URL_VALUE"]; print("q1=" + u.quote(v) + ";"); print("q2=" + u.urlencode({"a": v}) + ";")'
        echo "== glpat across two trace requests"
        printf 'pat:glpat-AAAABBBB'
        sleep 3
        printf 'CCCCDDDDEEEE:end\n'
        echo "== done"
        """#

    @Test("a job printing its token and a masked variable in every leaking form of issue 12 leaves none in the stored trace or on the web page")
    func everyLeakingFormIsMasked() async throws {
        let value = "lk_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24)
        let name = "masking-e2e-\(UUID().uuidString.prefix(8).lowercased())"
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": name, "visibility": "private"])
        #expect(created.status == 201, "\(created.text)")
        let projectID = try #require(created.object["id"] as? Int)
        let variable = try await HTTP.request(
            "POST", "\(server.url)/api/v4/projects/\(projectID)/variables", headers: root, json: ["key": "LEAKY_VALUE", "value": value, "masked": true])
        #expect(variable.status == 201, "\(variable.text)")
        // A password-like value: each URL encoder leaves different punctuation alone (Python's quote keeps `/` and `~`).
        let urlValue = "p@ss w!rd(\(UUID().uuidString.prefix(8)))~/:"
        let urlVariable = try await HTTP.request(
            "POST", "\(server.url)/api/v4/projects/\(projectID)/variables", headers: root, json: ["key": "URL_VALUE", "value": urlValue, "masked": true])
        #expect(urlVariable.status == 201, "\(urlVariable.text)")
        let ci = """
            leak:
              script:
                - '\(JobHandoff.script("$CI_JOB_TOKEN"))'
                - sh leak.sh
            """
        try push(name, files: [".gitlab-ci.yml": ci, "leak.sh": Self.leakScript])
        let token = try await JobHandoff.take(from: server.buildsDirectory, projectID: projectID)
        #expect(token.hasPrefix("glcbt-"))
        let jobID = try await eventually("the leak job to finish") { () -> Int? in
            let jobs = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs", headers: root).array
            guard let job = jobs.first, let status = job["status"] as? String, ["success", "failed", "canceled"].contains(status) else { return nil }
            return job["id"] as? Int
        }
        let trace = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)/trace", headers: root).text
        #expect(trace.contains("== done"), "the job ran its script to the end:\n\(trace)")

        let forbidden = Self.forbiddenWindows(token: token, value: value)
        let page = try signedInPage("/root/\(name)/-/jobs/\(jobID)")
        #expect(page.contains("id=\"trace\""), "the job page: \(page.prefix(500))")
        let pageText = Self.htmlUnescaped(page)
        for (what, shown) in [("stored trace", trace), ("web job page", pageText)] {
            let view = Self.normalised(shown)
            let leaks = forbidden.filter { view.contains($0.window) }
            #expect(leaks.isEmpty, "\(what) shows \(leaks.map(\.form)) (\(leaks.first?.window ?? "")):\n\(shown.debugDescription)")
            #expect(shown.components(separatedBy: "[MASKED]").count - 1 >= 14, "\(what): \(shown.debugDescription)")
            // The encoded newline's group holds bits of the secret unless the secret fills its last group; either way no tail shows.
            for secret in [token, value] {
                let expected = secret.utf8.count % 3 == 0 ? "nl:[MASKED]Cg==:end" : "nl:[MASKED]:end"
                #expect(view.contains(expected), "\(what): \(secret.utf8.count) bytes")
            }
            #expect(view.contains("pat:glpat-[MASKED]:end"), "\(what)")
            #expect(view.contains("q1=[MASKED];") && view.contains("q2=a=[MASKED];"), "\(what): Python's quote and urlencode")
            #expect(!view.contains("w%21rd") && !view.contains("w!rd"), "\(what)")
            #expect(!shown.contains("CCCCDDDD"), "\(what)")
        }
    }

    /// Every 12-character window of every leaking form's secret-only part, named by its form.
    static func forbiddenWindows(token: String, value: String) -> [(form: String, window: String)] {
        let body = String(token.dropFirst("glcbt-".count))
        let prefixed = Data(("gitlab-ci-token:" + token).utf8)
        let hexPrefixed = prefixed.map { String(format: "%02x", $0) }.joined()
        let inner = Data(value.utf8).base64EncodedString()
        let innerPrefixed = Data(("v=" + value + "\n").utf8).base64EncodedString()
        // Each form with how many leading characters encode only the plain prefix, and trailing ones that mix in what follows.
        let forms: [(String, String, Int, Int)] = [
            ("token", token, 0, 0), ("token body", body, 0, 0), ("masked value", value, 0, 0),
            ("base64 of gitlab-ci-token:", prefixed.base64EncodedString(), 22, 4),
            ("xxd -p", hexPrefixed, 32, 0), ("xxd -p -u", Data(token.utf8).map { String(format: "%02X", $0) }.joined(), 0, 0),
            ("base64", Data(token.utf8).base64EncodedString(), 0, 4),
            ("base32", base32(Array(token.utf8)), 0, 8), ("base32 after one byte", base32(Array(("x" + token).utf8)), 2, 8),
            ("base64 of the value", inner, 0, 4), ("double base64", Data((inner + "\n").utf8).base64EncodedString(), 0, 12),
            ("double base64 after v=", Data(innerPrefixed.utf8).base64EncodedString(), 6, 12),
        ]
        var windows: [(form: String, window: String)] = []
        for (form, text, leading, trailing) in forms {
            let characters = Array(text)
            guard characters.count - trailing - leading >= 12 else { continue }
            for start in leading...(characters.count - trailing - 12) {
                windows.append((form, String(characters[start..<(start + 12)])))
            }
        }
        return windows
    }

    /// What a reader sees: escape sequences, section markers and control characters (line breaks too) taken out.
    static func normalised(_ text: String) -> String {
        var text = text
        for pattern in [
            "\u{1B}\\[[0-9;?]*[ -/]*[@-~]", "\u{1B}\\][^\u{7}\u{1B}]*(\u{7}|\u{1B}\\\\)", "\u{1B}[ -/]*[0-~]",
            "section_(start|end):[0-9]+:[A-Za-z0-9_.-]+(\\[[^\\]]*\\])?",
        ] {
            text = text.replacingOccurrences(of: pattern, with: "", options: .regularExpression)
        }
        return String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
    }

    static func htmlUnescaped(_ html: String) -> String {
        var text = html
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&#x27;", "'"), ("&#x2F;", "/"), ("&#47;", "/"), ("&amp;", "&")] {
            text = text.replacingOccurrences(of: entity, with: character)
        }
        return text
    }

    /// RFC 4648 base32 with padding, written out here rather than taken from the masker.
    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8 | Int(byte)) & 0xFFFF
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        while output.count % 8 != 0 { output.append("=") }
        return output
    }

    /// Pushes `files` to root's existing project `name` with real git.
    func push(_ name: String, files: [String: String]) throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        for (path, content) in files { try Data(content.utf8).write(to: work.appendingPathComponent(path)) }
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/\(name).git"
        try GitFixtures.git(["push", "-q", remote, "main"], in: work)
    }

    /// Signs in to the web UI as root with its password (curl and a cookie jar, as a browser would) and fetches `path`.
    func signedInPage(_ path: String) throws -> String {
        let jar = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-cookies-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: jar) }
        let form = try curl(["-c", jar, "-b", jar, server.url + "/users/sign_in"])
        let csrf = try #require(
            form.range(of: "name=\"authenticity_token\" value=\"([^\"]+)\"", options: .regularExpression).map { match in
                String(form[match].dropFirst("name=\"authenticity_token\" value=\"".count).dropLast())
            }, "no CSRF token in the sign-in form")
        _ = try curl([
            "-c", jar, "-b", jar, "--data-urlencode", "authenticity_token=\(csrf)", "--data-urlencode", "user[login]=root",
            "--data-urlencode", "user[password]=root-password-e2e", "--data-urlencode", "redirect_to=/", server.url + "/users/sign_in",
        ])
        return try curl(["-c", jar, "-b", jar, server.url + path])
    }

    func curl(_ arguments: [String]) throws -> String {
        let (_, output) = try Subprocess.collect(["/usr/bin/curl", "-s", "-g"] + arguments)
        return String(decoding: output, as: UTF8.self)
    }
}
