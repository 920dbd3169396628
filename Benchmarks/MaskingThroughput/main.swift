// Throughput of SecretMasker on a 100 MB log in 64 KiB chunks, for 1, 10 and 100 secrets, and where the time goes.
// Usage: MaskingThroughput [megabytes] [repetitions] [--export DIRECTORY]
// With --export it also writes, per secret count N, DIRECTORY/log-N (the log) and DIRECTORY/patterns-N (one literal a line:
// every pattern and token prefix the masker matches), so Hyperscan and ripgrep can be measured on the same bytes.
import Foundation
import LatchkeyCore
import MaskingWorkload

var arguments = Array(CommandLine.arguments.dropFirst())
var exportDirectory: String?
if let flag = arguments.firstIndex(of: "--export"), flag + 1 < arguments.count {
    exportDirectory = arguments[flag + 1]
    arguments.removeSubrange(flag...(flag + 1))
}
let numbers = arguments.compactMap { Int($0) }
let megabytes = numbers.first ?? 100
let repetitions = numbers.dropFirst().first ?? 3
let chunkSize = 64 * 1024
/// CPU time of this thread: on a shared machine wall time would measure the neighbours' builds too.
struct ThreadClock {
    func measure(_ body: () -> Void) -> Double {
        func now() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        let start = now()
        body()
        return now() - start
    }
}
let clock = ThreadClock()

func seconds(_ value: Double) -> Double { value }

/// The best of `repetitions` runs of `body`, in seconds.
func best(_ body: () -> Void) -> Double {
    (0..<repetitions).map { _ in clock.measure(body) }.min() ?? .infinity
}

print("secrets  patterns  states  table MiB  compile ms  floor MB/s  scan MB/s  prefilter MB/s  handed %  masker MB/s  output bytes / input bytes")
for secretCount in [1, 10, 100] {
    let workload = MaskingWorkload(secretCount: secretCount, byteCount: megabytes * 1_000_000)
    var rules: SecretMaskingRules?
    let compile = clock.measure { rules = SecretMaskingRules(secrets: workload.secrets) }
    let compiled = rules!
    if let exportDirectory {
        try FileManager.default.createDirectory(atPath: exportDirectory, withIntermediateDirectories: true)
        try Data(workload.log).write(to: URL(fileURLWithPath: "\(exportDirectory)/log-\(secretCount)"))
        let literals = compiled.literals.patterns + compiled.literals.prefixes
        try Data(literals.map { $0 + [0x0A] }.joined()).write(to: URL(fileURLWithPath: "\(exportDirectory)/patterns-\(secretCount)"))
    }
    // The floor: one load and one add per byte, what any byte-at-a-time pass costs.
    var sink = 0
    let floor = best {
        workload.log.withUnsafeBufferPointer { log in
            var sum = 0
            for byte in log { sum &+= Int(byte) }
            sink &+= sum
        }
    }
    // The automaton alone: the table walk without normalisation, ranges or output.
    let scan = best {
        workload.log.withUnsafeBufferPointer { log in
            var start = 0
            while start < log.count {
                let end = min(log.count, start + chunkSize)
                sink &+= compiled.scanSpecialStates(UnsafeBufferPointer(rebasing: log[start..<end]))
                start = end
            }
        }
    }
    // The prefilter alone: how fast it finds the places the automaton must see, and how many bytes those are.
    var handed = 0
    let prefiltering = best {
        workload.log.withUnsafeBufferPointer { log in
            var start = 0
            handed = 0
            while start < log.count {
                let end = min(log.count, start + chunkSize)
                handed += compiled.scanPrefilter(UnsafeBufferPointer(rebasing: log[start..<end]))
                start = end
            }
        }
    }
    var lastOutputBytes = 0
    let masking = best {
        var masker = SecretMasker(rules: compiled)
        var outputBytes = 0
        workload.log.withUnsafeBufferPointer { log in
            var start = 0
            while start < log.count {
                let end = min(log.count, start + chunkSize)
                outputBytes += masker.mask(UnsafeBufferPointer(rebasing: log[start..<end])).count
                start = end
            }
            outputBytes += masker.finish().count
        }
        lastOutputBytes = outputBytes
    }
    let megabytesPerSecond = { (time: Double) in Double(workload.log.count) / time / 1e6 }
    let row = String(
        format: "%-8d %-9d %-7d %-10.1f %-11.1f %-11.0f %-10.0f %-15.0f %-9.1f %-12.0f %d / %d",
        secretCount, compiled.patternCount, compiled.stateCount, Double(compiled.tableByteCount) / 1_048_576, seconds(compile) * 1000,
        megabytesPerSecond(floor), megabytesPerSecond(scan), megabytesPerSecond(prefiltering), 100 * Double(handed) / Double(workload.log.count),
        megabytesPerSecond(masking), lastOutputBytes, workload.log.count
    )
    print(row)
    if sink == 42 { print("") }
}
