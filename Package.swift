// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Tether",
    products: [
        .library(name: "Tether", targets: ["Tether"]),
        .library(name: "TetherNN", targets: ["TetherNN"]),
        .library(name: "TetherLM", targets: ["TetherLM"]),
        .library(name: "TetherTokenizers", targets: ["TetherTokenizers"]),
        .library(name: "TetherAlign", targets: ["TetherAlign"]),
        .library(name: "TetherServer", targets: ["TetherServer"]),
        .executable(name: "tether", targets: ["tether"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // YAML configs for the CLI only; the libraries stay dependency-free.
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        // The labelling web app (TetherServer and the executable) only; no library below uses them.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // The only C: ISA-dispatched micro-kernels (GEMM, vector math). No flags needed:
        // each variant carries its own __attribute__((target(...))) and is chosen at run time.
        .target(name: "CTetherKernels"),
        .target(name: "Tether", dependencies: ["CTetherKernels"]),
        .target(name: "TetherNN", dependencies: ["Tether"]),
        .target(name: "TetherLM", dependencies: ["Tether", "TetherNN"]),
        // Byte-level BPE tokenizers; no tensors: token ids are [Int32].
        .target(name: "TetherTokenizers"),
        // Data formats (TRL's), training loop, trainers.
        .target(name: "TetherAlign", dependencies: ["Tether", "TetherNN", "TetherLM", "TetherTokenizers"]),
        // Human preference labelling: SQLite store, statistics, export, and the web app.
        .target(
            name: "TetherServer",
            dependencies: [
                "TetherAlign",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .executableTarget(
            name: "tether",
            dependencies: [
                "Tether", "TetherNN", "TetherLM", "TetherTokenizers", "TetherAlign", "TetherServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]),
        // Shared test helpers (finite-difference gradient checks, tolerances).
        .target(name: "TetherTestSupport", dependencies: ["Tether"], path: "Sources/TetherTestSupport"),
        // Fixtures/ holds test data read via #filePath (and the script that made it).
        .testTarget(name: "TetherTests", dependencies: ["Tether", "TetherTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "TetherNNTests", dependencies: ["TetherNN", "TetherTestSupport"]),
        // Fixtures/ holds tiny HF models and their reference outputs (Scripts/make_lm_fixtures.py).
        .testTarget(name: "TetherLMTests", dependencies: ["TetherLM", "TetherTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "TetherTokenizersTests", dependencies: ["TetherTokenizers"], exclude: ["Fixtures"]),
        .testTarget(name: "TetherAlignTests", dependencies: ["TetherAlign", "TetherTestSupport"]),
        .testTarget(name: "TetherServerTests", dependencies: ["TetherServer", "TetherAlign"]),
        // Smoke tests of the command-line tool on tiny models it makes itself.
        .testTarget(name: "TetherCLITests", dependencies: ["tether", "TetherLM", "TetherTokenizers", "TetherAlign", "TetherServer"]),
    ]
)
