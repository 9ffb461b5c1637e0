// swift-tools-version:6.2
//
// The libFuzzer targets of Sluice's decoders (`make fuzz`, see Fuzz/README.md). A package
// of its own, so that `-sanitize=fuzzer` never touches the main build and `make test`
// stays fast. It depends on the root package by path, for SluiceCore only.
//
//   swift build --package-path Fuzz --scratch-path .build-fuzz -c release -Xswiftc -sanitize=fuzzer
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name (`main`, `sluice`, … wherever the
// repository is checked out).
let rootIdentity = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "SluiceFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "CLibFuzzer"),
        .executableTarget(
            name: "SluiceFuzz",
            dependencies: ["CLibFuzzer", .product(name: "SluiceCore", package: rootIdentity)]),
    ]
)
