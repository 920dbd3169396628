import Foundation
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// Headless Chromium drives the web interface as a person would: signs in, opens Settings > CI/CD > Token Access, adds a
/// project to the allowlist and turns the scope off, screenshotting each step into docs/screenshots; the REST API confirms.
@Suite("Browser, end to end", .serialized)
struct BrowserTests {
    @Test("a maintainer configures Token Access in the browser, and the API sees the change", .enabled(if: BrowserFixture.unavailableReason == nil))
    func tokenAccessInTheBrowser() async throws {
        let server = try await LiveServer.shared.start()
        let root = ["PRIVATE-TOKEN": server.rootToken]
        func create(_ name: String, description: String) async throws -> Int {
            let created = try await HTTP.request(
                "POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": name, "description": description])
            #expect(created.status == 201, "\(created.text)")
            return try #require(created.object["id"] as? Int)
        }
        let target = try await create("storefront", description: "The shop. Its job token allowlist decides which pipelines may reach it.")
        let source = try await create("release-tools", description: "Release scripts that fetch from the storefront with CI_JOB_TOKEN.")
        try BrowserFixture.push(["README.md": "# Storefront\n"], to: "\(server.url)/root/storefront.git", token: server.rootToken)
        let output = BrowserFixture.screenshotDirectory

        let steps = try await offThePool { try BrowserFixture.drive(server.url, password: BrowserFixture.rootPassword, target: "root/storefront", source: "root/release-tools", output: output) }
        #expect(steps.map(\.name) == ["01-sign-in", "02-projects", "03-token-access", "04-allowlist-added", "05-scope-toggled"])
        #expect(steps.first { $0.name == "02-projects" }?.text.contains("storefront") == true)
        #expect(steps.first { $0.name == "04-allowlist-added" }?.text.contains("root/release-tools was added to the allowlist.") == true)
        #expect(steps.first { $0.name == "05-scope-toggled" }?.text.contains("Limit access to this project is off") == true)

        let allowlist = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(target)/job_token_scope/allowlist", headers: root).array
        #expect(allowlist.compactMap { $0["id"] as? Int } == [target, source])
        let scope = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(target)/job_token_scope", headers: root).object
        #expect(scope["inbound_enabled"] as? Bool == false)

        // A pipeline whose job reaches the storefront with its token: it lands in the authentication log the page shows.
        let ci = """
            fetch-storefront:
              script:
                - 'curl --fail --silent --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/root%2Fstorefront/repository/branches" > /dev/null && echo "reached root/storefront"'
            """
        try BrowserFixture.push([".gitlab-ci.yml": ci], to: "\(server.url)/root/release-tools.git", token: server.rootToken)
        let (pipelineID, status) = try await eventually("the release-tools pipeline to finish") { () -> (Int, String)? in
            let pipelines = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(source)/pipelines", headers: root).array
            guard let first = pipelines.first, let id = first["id"] as? Int, let status = first["status"] as? String,
                ["success", "failed", "canceled"].contains(status)
            else { return nil }
            return (id, status)
        }
        #expect(status == "success")
        let job = try #require(try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(source)/jobs", headers: root).array.first?["id"] as? Int)
        let log = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(target)/job_token_scope/authentication_log", headers: root).array
        #expect(log.contains { ($0["origin_project"] as? [String: Any])?["full_path"] as? String == "root/release-tools" })

        let pages = try await offThePool { try BrowserFixture.drive(
            server.url, password: BrowserFixture.rootPassword, target: "-", source: "-", output: output,
            pages: [
                "06-pipeline": "/root/release-tools/-/pipelines/\(pipelineID)", "07-job": "/root/release-tools/-/jobs/\(job)",
                "08-authentication-log": "/root/storefront/-/settings/ci_cd#authentication-log", "09-project": "/root/storefront", "10-admin": "/admin",
            ]) }
        #expect(pages.first { $0.name == "07-job" }?.text.contains("reached root/storefront") == true)
        #expect(pages.first { $0.name == "08-authentication-log" }?.text.contains("root/release-tools") == true)
        for name in ["01-sign-in", "03-token-access", "04-allowlist-added", "05-scope-toggled", "06-pipeline", "07-job", "08-authentication-log"] {
            #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("\(name).png").path), "\(name).png")
        }
    }
}

extension BrowserTests {
    @Test(
        "the job log shows colours and collapsible sections and follows a running job without a reload; the pipeline graph draws needs: edges and a play button; the list filters by status",
        .enabled(if: BrowserFixture.unavailableReason == nil))
    func jobLogAndPipelineGraph() async throws {
        let server = try await LiveServer.shared.start()
        let root = ["PRIVATE-TOKEN": server.rootToken]
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": "graphs"])
        #expect(created.status == 201, "\(created.text)")
        let project = try #require(created.object["id"] as? Int)
        let ci = #"""
            stages: [build, test, deploy]
            build:
              stage: build
              script:
                - printf '\033[31mred error\033[0m and \033[1;32mbold green\033[0m\n'
                - printf '\033[0Ksection_start:%s:deps[collapsed=true]\r\033[0KInstall dependencies\n' "$(date +%s)"
                - echo inside-the-section
                - printf '\033[0Ksection_end:%s:deps\r\033[0K\n' "$(date +%s)"
                - for i in $(seq 1 15); do echo "tick $i"; sleep 1; done
            unit:
              stage: test
              needs: [build]
              script: [echo unit]
            lint:
              stage: test
              needs: []
              script: [echo lint]
            ship:
              stage: deploy
              needs: [unit]
              when: manual
              script: [echo ship]
            """#
        try BrowserFixture.push([".gitlab-ci.yml": ci], to: "\(server.url)/root/graphs.git", token: server.rootToken)
        // The browser opens the job page while the job still runs: what it shows later came by the live tail.
        let (pipelineID, buildID) = try await eventually("the build job to run") { () -> (Int, Int)? in
            let jobs = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(project)/jobs", headers: root).array
            guard let build = jobs.first(where: { $0["name"] as? String == "build" }), build["status"] as? String == "running",
                let id = build["id"] as? Int, let pipeline = (build["pipeline"] as? [String: Any])?["id"] as? Int
            else { return nil }
            return (pipeline, id)
        }
        let output = BrowserFixture.screenshotDirectory
        let steps = try await offThePool {
            try BrowserFixture.drive(
                server.url, password: BrowserFixture.rootPassword, target: "-", source: "-", output: output,
                pages: [
                    "11-job-log-live": [
                        "path": "/root/graphs/-/jobs/\(buildID)", "before": "window.__sameDocument = true; window.__wasLive = !!document.getElementById('trace').dataset.traceUrl; window.__header = (\(BrowserFixture.jobHeader))()",
                        "wait": "/Job log · the job /.test((document.getElementById('trace-status') || {}).textContent || '')",
                        "script": """
                            (function () {
                              var log = document.getElementById('trace');
                              var colour = function (text) {
                                var span = Array.from(log.querySelectorAll('span')).find(function (s) { return s.textContent === text; });
                                return span ? { classes: span.className, colour: getComputedStyle(span).color, weight: getComputedStyle(span).fontWeight } : null;
                              };
                              var section = Array.from(log.querySelectorAll('details.log-section')).find(function (d) { return d.querySelector('summary').textContent.indexOf('Install dependencies') >= 0; });
                              var wasOpen = section ? section.open : null;
                              var inside = section && Array.from(section.querySelectorAll('.log-line')).find(function (l) { return l.textContent.indexOf('inside-the-section') >= 0; });
                              var shown = function (element) { return element.checkVisibility ? element.checkVisibility() : element.getClientRects().length > 0; };
                              var hiddenBefore = inside ? !shown(inside) : null;
                              if (section) section.querySelector('summary').click();
                              return { headerBefore: window.__header, headerAfter: (\(BrowserFixture.jobHeader))(),
                                       sameDocument: window.__sameDocument === true, wasLive: window.__wasLive === true, red: colour('red error'), bold: colour('bold green'),
                                       sectionOpenAtFirst: wasOpen, hiddenWhileCollapsed: hiddenBefore, openAfterClick: section ? section.open : null,
                                       visibleAfterClick: inside ? shown(inside) : null,
                                       lastTick: log.textContent.indexOf('tick 15') >= 0, lineAnchors: log.querySelectorAll('a.line-number[href^="#L"]').length };
                            })()
                            """,
                    ],
                    "12-pipeline-graph": [
                        "path": "/root/graphs/-/pipelines/\(pipelineID)",
                        "wait": "document.querySelectorAll('#pipeline-graph .job-card').length == 4 && !!document.querySelector('button[aria-label=\"Run ship\"]')",
                        "script": """
                            ({ edges: Array.from(document.querySelectorAll('svg.needs-edges path')).map(function (p) { return p.getAttribute('data-edge'); }).sort(),
                               play: !!document.querySelector('button[aria-label="Run ship"]') })
                            """,
                    ],
                ])
        }
        // The list's tabs: the pipeline is under its own status and not under "Failed".
        let status = try await eventually("the pipeline to settle") { () -> String? in
            let pipeline = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(project)/pipelines/\(pipelineID)", headers: root).object
            guard let status = pipeline["status"] as? String, !["created", "pending", "running"].contains(status) else { return nil }
            return status
        }
        #expect(status != "failed")
        let lists = try await offThePool {
            try BrowserFixture.drive(
                server.url, password: BrowserFixture.rootPassword, target: "-", source: "-", output: output,
                pages: [
                    "13-pipelines-by-status": ["path": "/root/graphs/-/pipelines?status=\(status)", "script": "document.querySelector('.tabs a[aria-current=page]').textContent"],
                    "14-pipelines-failed": ["path": "/root/graphs/-/pipelines?status=failed"],
                    "15-pipeline-phone": ["path": "/root/graphs/-/pipelines/\(pipelineID)", "width": 390, "script": "document.documentElement.scrollWidth <= 390"] as [String: Any],
                ])
        }
        let log = try #require(steps.first { $0.name == "11-job-log-live" }).object
        #expect(log["sameDocument"] as? Bool == true, "the job page reloaded instead of following the log: \(log)")
        #expect(log["wasLive"] as? Bool == true, "the job had ended before the page opened: \(log)")
        #expect(log["lastTick"] as? Bool == true, "\(log)")
        // The header followed the job without a reload: badge, duration and buttons (cancel while it ran, retry once it ended).
        let before = log["headerBefore"] as? [String: Any], after = log["headerAfter"] as? [String: Any]
        #expect(before?["badge"] as? String == "running" && before?["badgeClass"] as? String == "badge status-running", "\(log)")
        #expect(before?["buttons"] as? [String] == ["cancel"], "\(log)")
        #expect(after?["badge"] as? String == "passed" && after?["badgeClass"] as? String == "badge status-success", "\(log)")
        #expect(after?["buttons"] as? [String] == ["retry"] && after?["duration"] as? Bool == true, "\(log)")
        let red = log["red"] as? [String: Any], bold = log["bold"] as? [String: Any]
        #expect((red?["classes"] as? String)?.contains("term-fg-red") == true, "\(log)")
        #expect((bold?["classes"] as? String)?.contains("term-bold") == true && (bold?["classes"] as? String)?.contains("term-fg-green") == true, "\(log)")
        #expect(red?["colour"] as? String != bold?["colour"] as? String, "\(log)")
        #expect(log["sectionOpenAtFirst"] as? Bool == false && log["hiddenWhileCollapsed"] as? Bool == true, "\(log)")
        #expect(log["openAfterClick"] as? Bool == true && log["visibleAfterClick"] as? Bool == true, "\(log)")
        #expect((log["lineAnchors"] as? Int ?? 0) >= 8, "\(log)")
        let graph = try #require(steps.first { $0.name == "12-pipeline-graph" }).object
        #expect(graph["edges"] as? [String] == ["build -> unit", "unit -> ship"], "\(graph)")
        #expect(graph["play"] as? Bool == true)
        let byStatus = try #require(lists.first { $0.name == "13-pipelines-by-status" })
        #expect(byStatus.value != "\"All\"" && byStatus.text.contains("#\(pipelineID)"), "\(byStatus)")
        #expect(lists.first { $0.name == "14-pipelines-failed" }?.text.contains("No pipelines with the status Failed") == true)
        #expect(lists.first { $0.name == "15-pipeline-phone" }?.value == "true", "the pipeline page is wider than a phone")
    }
}

/// Chromium and the DevTools driver (Python's standard library only), and where screenshots go.
enum BrowserFixture {
    struct Step: Decodable {
        var name: String
        var url: String
        var text: String
        /// What the page's `script` returned, as JSON.
        var value: String?

        /// `value` decoded as a JSON object.
        var object: [String: Any] { value.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:] }
    }

    /// A function expression returning the job page header's badge text and class, visible buttons and whether a duration shows.
    static let jobHeader = """
        function () { var badge = document.getElementById('job-status'); var d = document.getElementById('job-duration');
          return { badge: badge ? badge.textContent.trim() : null, badgeClass: badge ? badge.className : null, duration: !!d && !d.hidden && d.textContent.trim() !== '',
                   buttons: Array.from(document.querySelectorAll('#job-actions form[data-action]')).filter(function (f) { return !f.hidden && f.getClientRects().length > 0; }).map(function (f) { return f.dataset.action; }) }; }
        """

    /// Why the browser test cannot run here, or nil when it can.
    static let unavailableReason: String? = {
        var missing: [String] = []
        if chromium == nil { missing.append("chromium (apt-get install -y chromium)") }
        if RegistryFixture.executable("python3") == nil { missing.append("python3") }
        guard !missing.isEmpty else { return nil }
        let reason = "\(missing.joined(separator: " and ")) not installed: browser test skipped"
        print(reason)
        return reason
    }()

    /// Root's password on the live server (`LATCHKEY_ROOT_PASSWORD` in LiveServer).
    static let rootPassword = "root-password-e2e"

    static let chromium: String? = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap { RegistryFixture.executable($0) }.first

    /// `docs/screenshots` (the README shows them), or `LATCHKEY_SCREENSHOTS_DIR`.
    static var screenshotDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["LATCHKEY_SCREENSHOTS_DIR"], !directory.isEmpty { return URL(fileURLWithPath: directory) }
        // Tests leave the tree alone; refresh the README's pictures with LATCHKEY_SCREENSHOTS_DIR=docs/screenshots.
        return FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-screenshots", isDirectory: true)
    }

    /// Runs the driver: the Token Access steps (or, with `target` "-", only sign-in and `pages`), returning what each step showed.
    static func drive(_ base: String, username: String = "root", password: String, target: String, source: String, output: URL, pages: [String: Any] = [:]) throws -> [Step] {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-browser-\(UUID().uuidString).py")
        try Data(driver.utf8).write(to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        let ordered = String(decoding: try JSONSerialization.data(withJSONObject: pages, options: [.sortedKeys]), as: UTF8.self)
        var environment = ProcessInfo.processInfo.environment
        environment["CHROMIUM"] = chromium
        let process = try Subprocess.launch(
            ["/usr/bin/env", "python3", script.path, base, username, password, target, source, output.path, ordered], environment: environment,
            output: .pipe, error: .pipe)
        let out = try process.readToEnd()
        let err = try process.readToEnd(fromError: true)
        let status = process.waitForExit()
        try #require(status == 0, "the browser driver failed: \(String(decoding: err, as: UTF8.self))")
        struct Report: Decodable { var steps: [Step] }
        return try JSONDecoder().decode(Report.self, from: Data(out)).steps
    }

    /// Commits `files` and pushes them over HTTP as root.
    static func push(_ files: [String: String], to remote: String, token: String) throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-browser-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        for (path, content) in files { try Data(content.utf8).write(to: work.appendingPathComponent(path)) }
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        try GitFixtures.git(["push", "-q", remote.replacingOccurrences(of: "://", with: "://root:\(token)@"), "main"], in: work)
    }

    /// Drives headless Chromium over the DevTools protocol (a minimal WebSocket client, so nothing needs installing).
    static let driver = #"""
# Drives headless Chromium over the DevTools protocol with the standard library only.
import base64, json, os, socket, struct, subprocess, sys, tempfile, time, urllib.request

class Socket:
    def __init__(self, url):
        host_port, path = url[len("ws://"):].split("/", 1)
        host, port = host_port.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("no websocket upgrade: " + head.decode(errors="replace"))
        self.buffer = b""

    def send(self, text):
        data = text.encode()
        header = bytes([0x81])
        mask = os.urandom(4)
        n = len(data)
        if n < 126: header += bytes([0x80 | n])
        elif n < 65536: header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else: header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk: raise RuntimeError("websocket closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive(self):
        message = b""
        while True:
            b0, b1 = self.read(2)
            n = b1 & 0x7F
            if n == 126: n = struct.unpack(">H", self.read(2))[0]
            elif n == 127: n = struct.unpack(">Q", self.read(8))[0]
            payload = self.read(n)
            opcode = b0 & 0x0F
            if opcode == 8: raise RuntimeError("websocket closed by browser")
            if opcode in (9, 10): continue
            message += payload
            if b0 & 0x80: return message.decode()

class Browser:
    def __init__(self, width=1280, height=900):
        self.profile = tempfile.mkdtemp(prefix="latchkey-chromium-")
        self.process = subprocess.Popen(
            [os.environ.get("CHROMIUM", "chromium"), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
             "--hide-scrollbars", f"--window-size={width},{height}", "--remote-debugging-port=0", f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.time() > deadline or self.process.poll() is not None: raise RuntimeError("chromium did not start")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(p for p in pages if p.get("type") == "page")
        self.ws = Socket(page["webSocketDebuggerUrl"])
        self.next_id = 0
        self.events = []
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == ident:
                if "error" in message: raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for_load(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            for index, event in enumerate(self.events):
                if event.get("method") == "Page.loadEventFired":
                    del self.events[: index + 1]
                    return
            self.events.append(json.loads(self.ws.receive()))
        raise RuntimeError("page did not load")

    def goto(self, url):
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for_load()

    def evaluate(self, script):
        result = self.call("Runtime.evaluate", expression=script, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result: raise RuntimeError("script failed: " + json.dumps(result["exceptionDetails"]))
        return result.get("result", {}).get("value")

    def submit(self, script):
        self.events.clear()
        self.evaluate(script)
        self.wait_for_load()

    def screenshot(self, path, full=False):
        params = {"format": "png"}
        if full:
            metrics = self.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": 1280, "height": min(size["height"], 4000), "scale": 1})
        data = self.call("Page.captureScreenshot", **params)["data"]
        with open(path, "wb") as f: f.write(base64.b64decode(data))

    def close(self):
        try: self.call("Browser.close")
        except Exception: pass
        try: self.process.wait(timeout=10)
        except Exception: self.process.kill()

def js(value): return json.dumps(value)

def main():
    base, username, password, target, source, out = sys.argv[1:7]
    extra = json.loads(sys.argv[7]) if len(sys.argv) > 7 else {}
    os.makedirs(out, exist_ok=True)
    browser = Browser()
    report = {"steps": []}
    def step(name, full=False, value=None):
        browser.screenshot(os.path.join(out, name + ".png"), full=full)
        report["steps"].append({"name": name, "url": browser.evaluate("location.pathname + location.hash"),
                                "text": browser.evaluate("document.querySelector('main') ? document.querySelector('main').innerText : document.body.innerText"),
                                "value": None if value is None else json.dumps(value)})
    # A page is a path, or {"path", "width", "before": script run once loaded, "wait": expression polled until true, "script": its
    # value goes in the report}.
    def visit(name, spec):
        if isinstance(spec, str): spec = {"path": spec}
        if "width" in spec: browser.call("Emulation.setDeviceMetricsOverride", width=spec["width"], height=900, deviceScaleFactor=1, mobile=spec["width"] < 700)
        browser.goto(base + spec["path"])
        if "before" in spec: browser.evaluate(spec["before"])
        if "wait" in spec:
            deadline = time.time() + spec.get("timeout", 90)
            while not browser.evaluate(spec["wait"]):
                if time.time() > deadline: raise RuntimeError(name + ": timed out waiting for " + spec["wait"])
                time.sleep(0.25)
        step(name, full=spec.get("full", False), value=browser.evaluate(spec["script"]) if "script" in spec else None)
        if "width" in spec: browser.call("Emulation.clearDeviceMetricsOverride")
    try:
        browser.goto(base + "/users/sign_in")
        if target != "-": step("01-sign-in")
        browser.submit(f"""document.querySelector('#user_login').value = {js(username)};
            document.querySelector('#user_password').value = {js(password)};
            document.querySelector('form[action="/users/sign_in"]').submit();""")
        if target == "-":
            for name, spec in extra.items():
                visit(name, spec)
            return
        step("02-projects")
        browser.goto(base + "/" + target)
        browser.submit("document.querySelector('.sidebar a[href$=\"/-/settings/ci_cd\"]').click()")
        browser.evaluate("document.querySelector('#js-token-access').scrollIntoView()")
        step("03-token-access", full=True)
        browser.submit(f"""document.querySelector('#target_path').value = {js(source)};
            document.querySelector('#add-allowlist').submit();""")
        step("04-allowlist-added", full=True)
        browser.submit("document.querySelector('#inbound button.switch').click()")
        step("05-scope-toggled", full=True)
        for name, spec in extra.items():
            visit(name, spec)
    finally:
        browser.close()
        print(json.dumps(report))

if __name__ == "__main__":
    main()
"""#
}
