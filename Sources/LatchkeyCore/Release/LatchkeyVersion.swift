/// The release of this build, shown by `latchkey --version`, the runner's `Running with` line and `GET /api/v4/version`.
public enum LatchkeyVersion {
    /// Latchkey's own version.
    public static let number = "0.2.0"
    /// The GitLab API release whose behaviour the server follows (what `GET /api/v4/version` reports as `version`).
    public static let gitLabAPI = "17.11.0"
}
