import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The open-file limit `serve` runs with: every connection, database file, trace, artifact and git pipe takes a descriptor.
enum FileDescriptorLimit {
    /// What `serve` asks for: a thousand keep-alive clients and what their requests open, with room to spare.
    static let wanted: UInt64 = 65_536

    /// Raises the soft `RLIMIT_NOFILE` up to `wanted` (never past the hard limit) when it is lower, as many systems start
    /// processes at 1,024, where a thousand clients end in EMFILE: accepted connections dropped and files that cannot open.
    /// Returns the soft limit in force.
    @discardableResult
    static func raise(logger: Logger) -> UInt64 {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        let current = UInt64(limit.rlim_cur), hard = UInt64(limit.rlim_max)
        guard current < wanted else { return current }
        let target = min(wanted, hard)
        if target > current {
            var raised = limit
            raised.rlim_cur = rlim_t(target)
            if setrlimit(resource, &raised) == 0 {
                logger.info("raised the open-file limit", metadata: ["from": "\(current)", "to": "\(target)"])
                return target
            }
        }
        if current < 4096 {
            logger.warning("the open-file limit is low: many concurrent clients will be refused", metadata: ["limit": "\(current)", "hard": "\(hard)"])
        }
        return current
    }
}
