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
        .executable(name: "tether", targets: ["tether"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // YAML configs for the CLI only; the libraries stay dependency-free.
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
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
        .executableTarget(
            name: "tether",
            dependencies: [
                "Tether", "TetherNN", "TetherLM", "TetherTokenizers", "TetherAlign",
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
        // Smoke tests of the command-line tool on tiny models it makes itself.
        .testTarget(name: "TetherCLITests", dependencies: ["tether", "TetherLM", "TetherTokenizers", "TetherAlign"]),
    ]
)
