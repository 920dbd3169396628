import Foundation

/// One uid of the job uid range, held by one running job through an exclusive `flock` on a file only root can reach.
///
/// The lock, not a counter, decides: several runner processes on one host (the embedded runner and a
/// `latchkey runner run`) never hand the same uid to two jobs at once, and a crashed runner's slots
/// free themselves when its descriptors close.
final class JobSlot: Sendable {
    let uid: UInt32
    private let descriptor: Int32

    private init(uid: UInt32, descriptor: Int32) {
        self.uid = uid
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The directory of the lock files: root's, mode 0700, outside anything a job can see.
    static let lockDirectory = "/run/latchkey-job-slots"

    /// Takes the first free uid of `range`; nil when every uid is in use.
    static func acquire(in range: JobUIDRange, lockDirectory: String = JobSlot.lockDirectory) throws -> JobSlot? {
        if FileKind.of(lockDirectory) == nil {
            if mkdir(lockDirectory, 0o700) != 0 && errno != EEXIST { throw PrivateFile.error(lockDirectory) }
        }
        // Starting at a random offset spreads concurrent runners over the range instead of all racing for the first uid.
        let start = Int.random(in: 0..<range.count)
        for step in 0..<range.count {
            let uid = range.lower + UInt32((start + step) % range.count)
            let path = "\(lockDirectory)/\(uid).lock"
            let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw PrivateFile.error(path) }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return JobSlot(uid: uid, descriptor: descriptor) }
            close(descriptor)
        }
        return nil
    }

    /// The slot as the account job processes run as: uid and gid of the same number, home in the job's temporary directory.
    func user(home: String) -> JobUser {
        JobUser(name: "latchkey-job", uid: uid_t(uid), gid: gid_t(uid), home: home)
    }
}
