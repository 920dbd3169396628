import Foundation
import LatchkeyTestSupport
import Testing

extension BrowserTests {
    @Test("every page passes the accessibility audit (labels, text alternatives, heading order, landmarks, badge contrast, focus, live log), as admin and as a plain user",
        .enabled(if: BrowserFixture.unavailableReason == nil))
    func accessibilityAudit() async throws {
        let server = try await LiveServer.shared.start()
        let root = ["PRIVATE-TOKEN": server.rootToken]
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": "audited"])
        #expect(created.status == 201, "\(created.text)")
        let project = try #require(created.object["id"] as? Int)
        let password = "a-long-password-\(UUID().uuidString)"
        let user = try await HTTP.request("POST", "\(server.url)/api/v4/users", headers: root, json: ["username": "plain", "name": "Plain", "email": "plain@example.com", "password": password])
        #expect(user.status == 201, "\(user.text)")
        let userID = try #require(user.object["id"] as? Int)
        _ = try await HTTP.request("POST", "\(server.url)/api/v4/projects/\(project)/members", headers: root, json: ["user_id": userID, "access_level": 30])
        try BrowserFixture.push([".gitlab-ci.yml": "build:\n  script: [echo built]\n"], to: "\(server.url)/root/audited.git", token: server.rootToken)
        let (pipelineID, jobID) = try await eventually("the pipeline to finish") { () -> (Int, Int)? in
            let jobs = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(project)/jobs", headers: root).array
            guard let job = jobs.first, ["success", "failed"].contains(job["status"] as? String ?? ""), let id = job["id"] as? Int,
                let pipeline = (job["pipeline"] as? [String: Any])?["id"] as? Int
            else { return nil }
            return (pipeline, id)
        }
        let common = ["/", "/root/audited", "/root/audited/-/pipelines", "/root/audited/-/pipelines/\(pipelineID)", "/root/audited/-/jobs/\(jobID)", "/no/such/page"]
        let admin = common + ["/root/audited/-/settings/ci_cd", "/admin", "/admin/users", "/admin/groups", "/admin/runners", "/admin/application_settings/ci_cd"]
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-audit", isDirectory: true)
        let asAdmin = try await offThePool { try BrowserFixture.drive(server.url, password: BrowserFixture.rootPassword, target: "-", source: "-", output: output, pages: BrowserFixture.audited(admin)) }
        let asUser = try await offThePool { try BrowserFixture.drive(server.url, username: "plain", password: password, target: "-", source: "-", output: output, pages: BrowserFixture.audited(common)) }
        #expect(asAdmin.count == admin.count && asUser.count == common.count)
        for step in asAdmin + asUser {
            #expect(step.value == "[]", "\(step.url): \(step.value ?? "no audit")")
        }
    }
}

extension BrowserFixture {
    /// Driver pages that run `audit` on each path, named in visiting order.
    static func audited(_ paths: [String]) -> [String: Any] {
        Dictionary(uniqueKeysWithValues: paths.enumerated().map { ("a\($0.offset < 10 ? "0" : "")\($0.offset)", ["path": $0.element, "script": audit] as [String: Any]) })
    }

    /// The audit a page must pass: a JSON array of findings, empty when the page passes.
    static let audit = """
        (function () {
          var findings = [];
          var visible = function (e) { return e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'; };
          var name = function (e) {
            if (e.getAttribute('aria-label')) return e.getAttribute('aria-label').trim();
            var by = e.getAttribute('aria-labelledby');
            if (by) return by.split(/\\s+/).map(function (id) { var t = document.getElementById(id); return t ? t.textContent : ''; }).join(' ').trim();
            if (e.id) { var l = document.querySelector('label[for="' + CSS.escape(e.id) + '"]'); if (l && l.textContent.trim()) return l.textContent.trim(); }
            var wrap = e.closest('label'); if (wrap && wrap.textContent.trim()) return wrap.textContent.trim();
            if (e.tagName === 'BUTTON' || e.tagName === 'A' || e.tagName === 'SUMMARY') return e.textContent.trim();
            if (e.type === 'submit' || e.type === 'button') return (e.value || '').trim();
            return (e.getAttribute('title') || '').trim();
          };
          var label = function (e) { return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : ''); };
          document.querySelectorAll('input:not([type=hidden]), select, textarea, button').forEach(function (e) { if (!name(e)) findings.push('no label: ' + label(e)); });
          document.querySelectorAll('a[href]').forEach(function (e) { if (visible(e) && !name(e)) findings.push('link without text: ' + e.getAttribute('href')); });
          document.querySelectorAll('img').forEach(function (e) { if (!e.hasAttribute('alt')) findings.push('img without alt: ' + e.src); });
          document.querySelectorAll('svg').forEach(function (e) { if (e.getAttribute('aria-hidden') !== 'true' && !e.getAttribute('aria-label') && !e.querySelector('title')) findings.push('svg without text alternative'); });
          document.querySelectorAll('[role=img]').forEach(function (e) { if (!name(e)) findings.push('role=img without name'); });
          if (!document.documentElement.lang) findings.push('html without lang');
          var headings = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6')).filter(visible);
          if (!headings.length || headings[0].tagName !== 'H1') findings.push('first heading is not h1');
          if (document.querySelectorAll('h1').length > 1) findings.push('more than one h1');
          for (var i = 1; i < headings.length; i++) {
            var a = Number(headings[i - 1].tagName[1]), b = Number(headings[i].tagName[1]);
            if (b > a + 1) findings.push('heading skips from h' + a + ' to h' + b + ': ' + headings[i].textContent.trim());
          }
          if (document.querySelectorAll('main').length !== 1) findings.push('not exactly one main');
          if (!document.querySelector('nav')) findings.push('no nav');
          var rgb = function (c) { var m = c.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; };
          var lum = function (c) { var v = c.slice(0, 3).map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); }); return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
          var background = function (e) { for (; e; e = e.parentElement) { var c = rgb(getComputedStyle(e).backgroundColor); if (c.length < 4 || c[3] > 0) return c; } return [255, 255, 255]; };
          document.querySelectorAll('.badge').forEach(function (e) {
            if (!visible(e)) return;
            var f = lum(rgb(getComputedStyle(e).color)), g = lum(background(e));
            var ratio = (Math.max(f, g) + 0.05) / (Math.min(f, g) + 0.05);
            if (ratio < 4.5) findings.push('badge contrast ' + ratio.toFixed(2) + ': ' + e.className + ' ' + e.textContent.trim());
          });
          // Headless Chromium's window never has focus, so :focus styles never apply: read them from the stylesheet instead (the
          // outline shorthand with var() has no longhands in the CSSOM, hence cssText).
          var focusRules = [];
          Array.from(document.styleSheets).forEach(function (sheet) { Array.from(sheet.cssRules).forEach(function (rule) {
            if (rule.selectorText && /:focus/.test(rule.selectorText) && rule.style && /outline\\s*:/.test(rule.style.cssText) && !/outline\\s*:\\s*(none|0)\\b/.test(rule.style.cssText))
              rule.selectorText.split(',').forEach(function (part) { if (/:focus/.test(part)) focusRules.push(part.replace(/:focus(-visible)?/g, '').trim() || '*'); });
          }); });
          document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]').forEach(function (e) {
            if (!visible(e)) return;
            if (!focusRules.some(function (selector) { try { return e.matches(selector); } catch (x) { return false; } })) findings.push('no visible focus: ' + label(e) + ' ' + e.textContent.trim().slice(0, 30));
          });
          var log = document.getElementById('trace');
          if (log && log.getAttribute('role') !== 'log' && !log.getAttribute('aria-live')) findings.push('job log without role=log or aria-live');
          return findings;
        })()
        """
}
