#!/usr/bin/env bash
# The long property runs of issue 12 in a release build: the masking sources and their tests in a throw-away package,
# so no server dependency is built. Prints each suite's result and time (docs/benchmarks/masking.md).
# Usage: Benchmarks/masking-properties.sh [normalised-view cases=1000000] [prefilter texts=100000]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${SCRATCH:-/tmp/latchkey-masking-properties}"
mkdir -p "$scratch/Sources/LatchkeyCore" "$scratch/Tests/LatchkeyCoreTests"
ln -sfn "$root/Sources/LatchkeyCore/Masking" "$scratch/Sources/LatchkeyCore/Masking"
ln -sfn "$root/Tests/LatchkeyCoreTests/Masking" "$scratch/Tests/LatchkeyCoreTests/Masking"
cat > "$scratch/Package.swift" <<'MANIFEST'
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "masking-properties",
    targets: [
        .target(name: "LatchkeyCore"),
        .testTarget(name: "LatchkeyCoreTests", dependencies: ["LatchkeyCore"]),
    ]
)
MANIFEST
flags=(-c release -Xswiftc -enable-testing --package-path "$scratch" --scratch-path "$scratch/.build")
swift build --build-tests "${flags[@]}"
LATCHKEY_MASKING_CASES="${1:-1000000}" swift test --skip-build "${flags[@]}" --filter SecretMaskerNormalisedViewPropertyTests 2>&1 | grep -E "✔|✘|↳ seed|got:|want:"
LATCHKEY_MASKING_PREFILTER_CASES="${2:-100000}" swift test --skip-build "${flags[@]}" --filter SecretMaskerPrefilterPropertyTests 2>&1 | grep -E "✔|✘|↳ seed|got:|want:"
