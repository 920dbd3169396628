// Throughput of SecretMasker on a 100 MB log in 64 KiB chunks, for 1, 10 and 100 secrets.
// Usage: MaskingThroughput [megabytes] [repetitions]
import Foundation
import LatchkeyCore
import MaskingWorkload

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let megabytes = arguments.first ?? 100
let repetitions = arguments.dropFirst().first ?? 3
let chunkSize = 64 * 1024
let clock = ContinuousClock()

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

print("secrets  patterns  states  table MiB  compile ms  best MB/s  output bytes / input bytes")
for secretCount in [1, 10, 100] {
    let workload = MaskingWorkload(secretCount: secretCount, byteCount: megabytes * 1_000_000)
    var rules: SecretMaskingRules?
    let compile = clock.measure { rules = SecretMaskingRules(secrets: workload.secrets) }
    let compiled = rules!
    var best = Double.infinity
    var lastOutputBytes = 0
    for _ in 0..<repetitions {
        var masker = SecretMasker(rules: compiled)
        var outputBytes = 0
        let elapsed = clock.measure {
            workload.log.withUnsafeBufferPointer { log in
                var start = 0
                while start < log.count {
                    let end = min(log.count, start + chunkSize)
                    let output = masker.mask(UnsafeBufferPointer(rebasing: log[start..<end]))
                    outputBytes += output.count
                    start = end
                }
                outputBytes += masker.finish().count
            }
        }
        best = min(best, seconds(elapsed))
        lastOutputBytes = outputBytes
    }
    let row = String(
        format: "%-8d %-9d %-7d %-10.1f %-11.1f %-10.0f %d / %d",
        secretCount,
        compiled.patternCount,
        compiled.stateCount,
        Double(compiled.tableByteCount) / 1_048_576,
        seconds(compile) * 1000,
        Double(workload.log.count) / best / 1e6,
        lastOutputBytes,
        workload.log.count
    )
    print(row)
}
