import Foundation
import Testing

@testable import LatchkeyCore

@Suite("Reading environment:")
struct EnvironmentConfigTests {
    @Test("a name or a mapping; variables in the name and URL are expanded; a parallel job's on_stop names its instance")
    func read() throws {
        let definition = try CIConfigParser.parse(
            """
            variables: {APP: shop}
            review:
              script: [deploy]
              environment:
                name: review/$APP
                url: https://$APP.example.com
                on_stop: stop
                deployment_tier: testing
                auto_stop_in: 1 week
            stop:
              script: [stop]
              when: manual
              environment: {name: review/$APP, action: stop}
            production:
              script: [deploy]
              environment: production
            """)
        let jobs = Dictionary(uniqueKeysWithValues: definition.jobs.map { ($0.name, $0.environment) })
        #expect(
            jobs["review"] == CIEnvironment(
                name: "review/shop", url: "https://shop.example.com", action: .start, onStop: "stop", autoStopIn: "1 week", deploymentTier: .testing))
        #expect(jobs["stop"] == CIEnvironment(name: "review/shop", action: .stop))
        #expect(jobs["production"] == CIEnvironment(name: "production"))
    }

    @Test(
        "a malformed environment is refused with GitLab's words",
        arguments: [
            ("environment: [a]", "jobs:deploy:environment config should be a hash or a string"),
            ("environment: {url: https://x.example}", "jobs:deploy:environment name can't be blank"),
            ("environment: '/prod'", "jobs:deploy:environment name can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', and spaces, but it cannot start or end with '/'"),
            ("environment: {name: p, action: deploy}", "jobs:deploy:environment action should be start, stop, prepare, verify, or access"),
            ("environment: {name: p, url: 'ftp://x'}", "jobs:deploy:environment url must be a valid url"),
            ("environment: {name: p, deployment_tier: moon}", "jobs:deploy:environment deployment tier must be one of production, staging, testing, development, other"),
            ("environment: {name: p, auto_stop_in: soon}", "jobs:deploy:environment auto stop in should be a duration"),
            ("environment: {name: p, kubernetes: {namespace: x}}", "jobs:deploy:environment config contains keys latchkey does not support: kubernetes"),
            ("environment: {name: p, colour: red}", "jobs:deploy:environment config contains unknown keys: colour"),
        ])
    func refused(entry: String, message: String) {
        do {
            _ = try CIConfigParser.parse("deploy:\n  \(entry)\n  script: [deploy]\n")
            Issue.record("accepted \(entry)")
        } catch {
            #expect(error.messages.contains(message), "\(error.messages)")
        }
    }

    @Test(
        "on_stop must name a job that stops the same environment",
        arguments: [
            ("", "deploy job: on_stop job halt is not defined"),
            ("halt: {script: [x]}", "deploy job: on_stop job halt does not have environment defined"),
            ("halt: {script: [x], environment: {name: other, action: stop}}", "deploy job: on_stop job halt have different environment name"),
            ("halt: {script: [x], environment: {name: p}}", "deploy job: on_stop job halt needs to have action stop defined"),
        ])
    func onStop(other: String, message: String) {
        do {
            _ = try CIConfigParser.parse("deploy:\n  script: [deploy]\n  environment: {name: p, on_stop: halt}\n\(other)\n")
            Issue.record("accepted")
        } catch {
            #expect(error.messages.contains(message), "\(error.messages)")
        }
    }

    @Test("a name that is only valid before its variables are expanded is refused when the pipeline is made")
    func expandedName() {
        do {
            _ = try CIConfigParser.parse("variables: {X: 'a;b'}\ndeploy:\n  script: [d]\n  environment: review/$X\n")
            Issue.record("accepted")
        } catch {
            #expect(error.messages.first?.hasPrefix("jobs:deploy environment name can contain only") == true, "\(error.messages)")
        }
    }

    @Test("slugs as GitLab makes them, and tiers guessed from names", arguments: [
        ("production", "production"), ("Production", "production-"), ("review/main", "review-main-"), ("1-app", "env-1-app-"),
        ("a-very-long-environment-name-indeed", "a-very-long-envir-"),
    ])
    func slug(name: String, prefix: String) {
        let slug = EnvironmentName.slug(name)
        #expect(slug.hasPrefix(prefix), "\(slug)")
        #expect(slug.count <= 24)
        #expect(slug == name || slug.count == prefix.count + 6, "\(slug)")
        #expect(slug.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" })
    }

    @Test("deployment tiers are guessed in GitLab's order")
    func tiers() {
        #expect(EnvironmentTier.guess(from: "production") == .production)
        #expect(EnvironmentTier.guess(from: "review/feature") == .development)
        #expect(EnvironmentTier.guess(from: "staging") == .staging)
        #expect(EnvironmentTier.guess(from: "qa") == .testing)
        #expect(EnvironmentTier.guess(from: "pre-prod") == .staging)
        #expect(EnvironmentTier.guess(from: "canary") == .other)
    }

    @Test("the state follows what happened: a later stop stops, a later deployment revives, a running stop job is stopping")
    func state() {
        func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }
        typealias Event = EnvironmentState.Event
        #expect(EnvironmentState.derive(stoppedAt: nil, events: []) == .available)
        #expect(EnvironmentState.derive(stoppedAt: at(10), events: [Event(action: .start, status: .success, at: at(5))]) == .stopped)
        #expect(EnvironmentState.derive(stoppedAt: at(10), events: [Event(action: .start, status: .running, at: at(20))]) == .available)
        #expect(EnvironmentState.derive(stoppedAt: nil, events: [Event(action: .start, status: .success, at: at(5)), Event(action: .stop, status: .running, at: at(6))]) == .stopping)
        #expect(EnvironmentState.derive(stoppedAt: nil, events: [Event(action: .start, status: .success, at: at(5)), Event(action: .stop, status: .created, at: at(6))]) == .available)
        #expect(EnvironmentState.derive(stoppedAt: nil, events: [Event(action: .start, status: .success, at: at(5)), Event(action: .stop, status: .success, at: at(7))]) == .stopped)
        #expect(EnvironmentState.derive(stoppedAt: nil, events: [Event(action: .stop, status: .failed, at: at(7))]) == .available)
    }
}
