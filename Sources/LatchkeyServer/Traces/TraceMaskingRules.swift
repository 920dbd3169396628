import LatchkeyCore
import Synchronization

/// Compiled masking rules per job, so a trace request reuses the automaton instead of compiling it again (~20 ms for 100 variables).
///
/// An entry is found by job id and used only when its secrets are exactly the job's current secrets (the job token,
/// the runner token, the masked variables): a changed variable compiles new rules, and no job is ever served rules
/// compiled for another. In process only; another instance compiles its own once.
final class TraceMaskingRules: Sendable {
    private struct Entry {
        var secrets: [String]
        var rules: SecretMaskingRules
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
            guard let entry = state.entries[jobID], entry.secrets == secrets else { return nil }
            state.entries[jobID]?.lastUse = state.clock
            return entry.rules
        }
        if let cached { return cached }
        // Compiled outside the lock: two requests of one job may both compile, which is harmless.
        let rules = SecretMaskingRules(secrets: secrets)
        state.withLock { state in
            state.compilations += 1
            state.entries[jobID] = Entry(secrets: secrets, rules: rules, lastUse: state.clock)
            while state.entries.count > 1,
                state.entries.count > capacity || state.entries.values.reduce(0, { $0 + $1.rules.tableByteCount }) > byteBudget,
                let oldest = state.entries.filter({ $0.key != jobID }).min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                state.entries[oldest] = nil
            }
        }
        return rules
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
    /// The compiled masking rules for a job's trace: its token, its runner's token and its masked variables.
    func traceRules(for job: Job) async throws -> SecretMaskingRules {
        traceMaskingRules.rules(jobID: job.id, secrets: try await traceSecrets(for: job))
    }
}
