// swift-tools-version: 6.0
// Tokenizer speed check until `tether bench` exists: `swift run -c release TokenizerBench` here.
import PackageDescription

let package = Package(
    name: "TokenizerBench",
    dependencies: [.package(name: "Tether", path: "../..")],
    targets: [
        .executableTarget(name: "TokenizerBench", dependencies: [.product(name: "TetherTokenizers", package: "Tether")]),
    ]
)
