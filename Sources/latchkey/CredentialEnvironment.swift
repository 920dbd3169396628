import Foundation

/// Removes credentials from this process's environment once they are read, so no child process inherits them and
/// `/proc/<pid>/environ` no longer shows them.
enum CredentialEnvironment {
    /// The variables that hold credentials: read once at start, then gone.
    static let names = ["LATCHKEY_ROOT_TOKEN", "LATCHKEY_ROOT_PASSWORD", "LATCHKEY_DATABASE_URL", "LATCHKEY_RUNNER_TOKEN"]

    /// Overwrites each variable's bytes in place, then unsets it.
    ///
    /// `unsetenv` alone only drops the pointer from `environ`: the kernel's `/proc/<pid>/environ` reads the original block
    /// the process started with, where the value stays until something writes over it.
    static func scrub(_ names: [String] = CredentialEnvironment.names) {
        for name in names {
            let prefix = Array((name + "=").utf8CString.dropLast())
            var index = 0
            while let entry = environ[index] {
                if strncmp(entry, prefix, prefix.count) == 0 {
                    let length = strlen(entry)
                    if length > prefix.count { memset(entry + prefix.count, 0x20, length - prefix.count) }
                }
                index += 1
            }
            unsetenv(name)
        }
    }
}
