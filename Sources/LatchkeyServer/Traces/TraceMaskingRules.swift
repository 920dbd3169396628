import LatchkeyCore
import Synchronization

/// Compiled masking rules per job, so a trace request reuses the automaton instead of compiling it again (~20 ms for 100
/// variables) and reads no secret from the database (a PATCH costs its bytes, not three queries).
///
/// A job's secrets are read when it is claimed (`prime`: its token, its runner's token, its project's masked variables),
/// so a variable rotated while the job runs does not unmask the value the job holds. An instance that did not claim the
/// job (or restarted) reads the same set from the database once. Entries are per job id, so no job is ever served rules
/// compiled for another; they are dropped when the job ends.
final class TraceMaskingRules: Sendable {
    private struct Entry {
        var secrets: [String]
        /// Nil until the first trace request compiles them.
        var rules: SecretMaskingRules?
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Int64: Entry] = [:]
        var clock: UInt64 = 0
        var compilations = 0
    }

    /// Jobs whose rules are kept, and the transition-table bytes they may use together (100 masked variables take ~50 MiB);
    /// the least recently used are dropped beyond either, the newest always kept.
    let capacity: Int
    let byteBudget: Int
    private let state = Mutex(State())

    init(capacity: Int = 256, byteBudget: Int = 512 << 20) {
        self.capacity = max(capacity, 1)
        self.byteBudget = byteBudget
    }

    /// The rules for `secrets` of job `jobID`, compiled on first use.
    ///
    /// The secrets are taken in sorted order, so the same set always compiles to the same rules (and the same fingerprint
    /// in a stored masker state), whatever order the database lists them in, on this instance or another.
    func rules(jobID: Int64, secrets unordered: [String]) -> SecretMaskingRules {
        let secrets = Array(Set(unordered)).sorted()
        let cached: SecretMaskingRules? = state.withLock { state in
            state.clock += 1
            guard let entry = state.entries[jobID], entry.secrets == secrets, let rules = entry.rules else { return nil }
            state.entries[jobID]?.lastUse = state.clock
            return rules
        }
        if let cached { return cached }
        // Compiled outside the lock: two requests of one job may both compile, which is harmless.
        let rules = SecretMaskingRules(secrets: secrets)
        state.withLock { state in
            state.compilations += 1
            state.entries[jobID] = Entry(secrets: secrets, rules: rules, lastUse: state.clock)
            Self.evict(&state, keeping: jobID, capacity: capacity, byteBudget: byteBudget)
        }
        return rules
    }

    /// Remembers the secrets a job was just given; its first trace request compiles them.
    func prime(jobID: Int64, secrets: [String]) {
        let secrets = Array(Set(secrets)).sorted()
        state.withLock { state in
            state.clock += 1
            state.entries[jobID] = Entry(secrets: secrets, rules: nil, lastUse: state.clock)
            Self.evict(&state, keeping: jobID, capacity: capacity, byteBudget: byteBudget)
        }
    }

    /// The job's rules if compiled, else the secrets it was primed with; nil when this process knows nothing of it.
    func known(jobID: Int64) -> (rules: SecretMaskingRules?, secrets: [String])? {
        state.withLock { state in
            guard let entry = state.entries[jobID] else { return nil }
            state.clock += 1
            state.entries[jobID]?.lastUse = state.clock
            return (entry.rules, entry.secrets)
        }
    }

    /// Drops the least recently used entries beyond `capacity` or `byteBudget`, never `keeping`.
    private static func evict(_ state: inout State, keeping jobID: Int64, capacity: Int, byteBudget: Int) {
        while state.entries.count > 1,
            state.entries.count > capacity || state.entries.values.reduce(0, { $0 + ($1.rules?.tableByteCount ?? 0) }) > byteBudget,
            let oldest = state.entries.filter({ $0.key != jobID }).min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            state.entries[oldest] = nil
        }
    }

    /// A point in this cache's use, for `retain(_:usedBefore:)`.
    func mark() -> UInt64 { state.withLock { $0.clock } }

    /// Drops the entries of jobs not in `active` (ended, canceled, reaped, on any instance) that were last used before `mark`:
    /// one claimed after the list of active jobs was read keeps its entry.
    func retain(_ active: Set<Int64>, usedBefore mark: UInt64) {
        state.withLock { state in
            state.entries = state.entries.filter { active.contains($0.key) || $0.value.lastUse > mark }
        }
    }

    /// Drops the rules of a finished job.
    func forget(jobID: Int64) {
        _ = state.withLock { $0.entries.removeValue(forKey: jobID) }
    }

    /// How many jobs have rules compiled, for tests.
    var count: Int { state.withLock { $0.entries.count } }

    /// How many times rules were compiled since the server started, for tests.
    var compilations: Int { state.withLock { $0.compilations } }
}

extension ServerEnvironment {
    /// The compiled masking rules for a job's trace: its token, its runner's token and its masked variables; from this
    /// process's memory when it knows the job (no query), else read once. `token` is the job token the request presented
    /// (already checked), which spares looking it up.
    func traceRules(for job: Job, token: String? = nil) async throws -> SecretMaskingRules {
        if let known = traceMaskingRules.known(jobID: job.id) {
            return known.rules ?? traceMaskingRules.rules(jobID: job.id, secrets: known.secrets)
        }
        return traceMaskingRules.rules(jobID: job.id, secrets: try await traceSecrets(for: job, token: token))
    }
}
