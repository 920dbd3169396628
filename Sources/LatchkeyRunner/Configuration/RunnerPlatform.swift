import LatchkeyCore

/// What the runner tells the server about itself (`info` in registration and job requests).
enum RunnerPlatform {
    static let name = "latchkey-runner"
    static let version = LatchkeyVersion.number
    static let revision = "latchkey"

    /// GitLab Runner's names (Go's GOOS).
    static var platform: String {
        #if os(Linux)
        "linux"
        #elseif os(macOS)
        "darwin"
        #else
        "unknown"
        #endif
    }

    /// GitLab Runner's names (Go's GOARCH).
    static var architecture: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }
}
