import Benchmark
import LatchkeyCore
import MaskingWorkload

// One iteration masks a 100 MB log in 64 KiB chunks (the size of a trace PATCH), so the
// throughput column times 100 is MB/s.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(30),
        maxIterations: 5
    )

    for secretCount in [1, 10, 100] {
        Benchmark("Mask 100 MB log, \(secretCount) secrets") { benchmark, workload in
            let rules = SecretMaskingRules(secrets: workload.secrets)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                var masker = SecretMasker(rules: rules)
                var outputBytes = 0
                workload.log.withUnsafeBufferPointer { log in
                    var start = 0
                    while start < log.count {
                        let end = min(log.count, start + 64 * 1024)
                        outputBytes += masker.mask(UnsafeBufferPointer(rebasing: log[start..<end])).count
                        start = end
                    }
                }
                outputBytes += masker.finish().count
                blackHole(outputBytes)
            }
        } setup: {
            MaskingWorkload(secretCount: secretCount, byteCount: 100_000_000)
        }
    }

    Benchmark("Compile rules for 100 secrets", configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxIterations: 50)) {
        benchmark,
        workload in
        for _ in benchmark.scaledIterations {
            blackHole(SecretMaskingRules(secrets: workload.secrets).stateCount)
        }
    } setup: {
        MaskingWorkload(secretCount: 100, byteCount: 0)
    }
}
