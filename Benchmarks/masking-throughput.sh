#!/usr/bin/env bash
# Measures SecretMasker throughput without building the main package's dependencies:
# a throw-away package in $SCRATCH links the masking sources and the workload and builds them in release mode.
# Usage: Benchmarks/masking-throughput.sh [megabytes=100] [repetitions=3] [--export DIRECTORY]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${SCRATCH:-/tmp/latchkey-masking-throughput}"
mkdir -p "$scratch/Sources/LatchkeyCore"
ln -sfn "$root/Sources/LatchkeyCore/Masking" "$scratch/Sources/LatchkeyCore/Masking"
ln -sfn "$root/Benchmarks/MaskingWorkload" "$scratch/Sources/MaskingWorkload"
ln -sfn "$root/Benchmarks/MaskingThroughput" "$scratch/Sources/MaskingThroughput"
cat > "$scratch/Package.swift" <<'MANIFEST'
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "masking-throughput",
    targets: [
        .target(name: "LatchkeyCore"),
        .target(name: "MaskingWorkload"),
        .executableTarget(name: "MaskingThroughput", dependencies: ["LatchkeyCore", "MaskingWorkload"]),
    ]
)
MANIFEST
swift build -c release --package-path "$scratch" --scratch-path "$scratch/.build" --product MaskingThroughput
"$scratch/.build/release/MaskingThroughput" "${1:-100}" "${2:-3}" "${@:3}"
