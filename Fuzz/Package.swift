// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets, one per parser of outside input, in their own package so the main build never compiles them.
// `scripts/fuzz [seconds]` builds them with `-sanitize=fuzzer,address` and runs each on its seed corpus in Corpus/<name>/
// (the target's name without `Fuzz`). What each does with an input is in FuzzHarnesses, which the main test suite
// shares to replay the corpus without a sanitizer build.
let core = [
    "ContentRange", "RangeHeader", "Multipart", "URLEncodedForm", "JSONParameters", "Duration", "Cron", "CIConfig",
    "ArtifactEntryName", "GitRefName", "Dotenv", "JUnit",
]

let package = Package(
    name: "LatchkeyFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so the identity does not depend on the folder the repository is cloned into.
        .package(name: "latchkey", path: ".."),
        .package(url: "https://github.com/GraphQLSwift/GraphQL", from: "4.3.0"),
    ],
    targets: [
        .target(name: "FuzzHarnesses", dependencies: [.product(name: "LatchkeyCore", package: "latchkey")]),
        .target(name: "FuzzDriver"),
    ]
        + core.map { .executableTarget(name: "Fuzz\($0)", dependencies: ["FuzzHarnesses", "FuzzDriver"]) }
        + [
            // The server's GraphQLLimits.swift is linked in (a symbolic link), so the target needs GraphQL, not the server.
            .executableTarget(
                name: "FuzzGraphQL", dependencies: ["FuzzDriver", .product(name: "GraphQL", package: "GraphQL")],
                swiftSettings: [.define("LATCHKEY_FUZZ")]
            )
        ]
)
