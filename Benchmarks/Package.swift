// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so the main build never pulls in package-benchmark.
// Run from this folder: `swift package benchmark --target MaskingBenchmarks`.
// Needs the main package to export `.library(name: "LatchkeyCore", targets: ["LatchkeyCore"])`.
let package = Package(
    name: "LatchkeyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so the identity does not depend on the folder the repository is cloned into.
        .package(name: "latchkey", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "MaskingWorkload", path: "MaskingWorkload"),
        // A plain executable measuring the same thing without the benchmark harness (see docs/benchmarks/masking.md).
        .executableTarget(
            name: "MaskingThroughput",
            dependencies: [.product(name: "LatchkeyCore", package: "latchkey"), "MaskingWorkload"],
            path: "MaskingThroughput"
        ),
        .executableTarget(
            name: "MaskingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LatchkeyCore", package: "latchkey"),
                "MaskingWorkload",
            ],
            path: "Benchmarks/MaskingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
