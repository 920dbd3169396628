import Foundation

extension Subprocess {
    private static let setpriv = "/usr/bin/setpriv"
    private static let hasSetpriv = FileManager.default.isExecutableFile(atPath: setpriv)

    /// `arguments` as a command the kernel kills (SIGKILL) when this process dies, even by SIGKILL: `setpriv --pdeathsig`
    /// (util-linux) sets the signal, then execs the command in its place; unchanged where setpriv is missing.
    ///
    /// For children that must not outlive the server: git's http-backend spins on a core for ever on a request body cut
    /// short, which is what a killed server leaves it. Only the command itself is covered, not children it forks.
    public static func killedWithParent(_ arguments: [String]) -> [String] {
        guard hasSetpriv else { return arguments }
        return [setpriv, "--pdeathsig", "KILL", "--"] + arguments
    }
}
