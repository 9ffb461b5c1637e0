// swift-tools-version:6.2
//
// Sluice: Kafka-native webhook delivery.
//
// librdkafka is linked from `.deps/lib`, which `scripts/setup.sh` fills from the
// confluent-kafka wheel (run `make build`, never a bare `swift build` on a new
// checkout). The library is named by its full path, so a missing runtime fails the
// link instead of silently falling back to Debian's librdkafka 2.0.2, which cannot
// talk to the Tansu test broker.
import PackageDescription

let root = Context.packageDirectory
let runtimeDir = "\(root)/.deps/lib"

let librdkafkaLink: [LinkerSetting] = [
    .unsafeFlags([
        "-Xlinker", "\(runtimeDir)/librdkafka.so",
        "-Xlinker", "-rpath", "-Xlinker", runtimeDir,
        "-Xlinker", "-rpath", "-Xlinker", "$ORIGIN",
        "-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/../lib",
    ])
]

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
        .executable(name: "sluice-fanout", targets: ["sluice-fanout"]),
        .executable(name: "sluice-dispatch", targets: ["sluice-dispatch"]),
        .executable(name: "sluice-retry", targets: ["sluice-retry"]),
        .executable(name: "sluice-dlq", targets: ["sluice-dlq"]),
        .executable(name: "sluice-admin", targets: ["sluice-admin"]),
        .library(name: "SluiceCore", targets: ["SluiceCore"]),
        .library(name: "SluiceKafka", targets: ["SluiceKafka"]),
        .library(name: "SluiceHTTP", targets: ["SluiceHTTP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.20.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        // The admin API (sluice-admin): Hummingbird 2, the OpenAPI runtime and transport (the
        // server code is generated once from openapi.yaml and committed: `make openapi`), GRDB.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The dashboard and tenant portal (/ui): server-rendered mustache templates.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(
            url: "https://github.com/apple/swift-configuration", from: "1.0.0",
            traits: [.defaults, "YAML"]),
    ],
    targets: [
        // C shims: typed, prefixed, non-variadic wrappers only.
        .target(name: "CRdKafka", linkerSettings: librdkafkaLink),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "CProcess"),

        // The webhook domain: no Kafka, no network.
        .target(
            name: "SluiceCore",
            dependencies: [
                "COpenSSL",
                "CProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Configuration", package: "swift-configuration"),
            ]),
        // The Kafka layer over librdkafka.
        .target(
            name: "SluiceKafka",
            dependencies: [
                "CRdKafka", "SluiceCore",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // HTTP delivery over libcurl's multi interface.
        .target(name: "SluiceHTTP", dependencies: ["CCurl", "SluiceCore"]),

        // What every executable shares: options, settings resolution, logging, runtime check.
        .target(
            name: "SluiceStage",
            dependencies: [
                "SluiceCore", "SluiceKafka", "SluiceHTTP", "CProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]),

        // Executables: thin @main wrappers over the libraries.
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceCore", "SluiceKafka", "SluiceStage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .executableTarget(
            name: "sluice-fanout",
            dependencies: [
                "SluiceStage", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .executableTarget(
            name: "sluice-dispatch",
            dependencies: [
                "SluiceStage", "SluiceCore", "SluiceHTTP", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .executableTarget(
            name: "sluice-retry",
            dependencies: [
                "SluiceStage", "SluiceCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .executableTarget(
            name: "sluice-dlq",
            dependencies: ["SluiceStage", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // The admin HTTP API: routes from Sources/SluiceAdmin/openapi.yaml over a query store.
        .target(
            name: "SluiceAdmin",
            dependencies: [
                "SluiceCore", "SluiceKafka", "SluiceStage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            exclude: ["openapi.yaml", "openapi-generator-config.yaml", "Generated/GENERATED_FROM"]),

        // The dashboard (operators) and tenant portal under /ui: pages rendered on the server
        // (mustache, SVG charts) over the admin API's store and actions.
        .target(
            name: "SluiceDashboard",
            dependencies: [
                "SluiceAdmin", "SluiceCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .executableTarget(
            name: "sluice-admin",
            dependencies: ["SluiceAdmin", "SluiceDashboard", "SluiceStage", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Benchmarks (run by `make bench`).
        .executableTarget(
            name: "sluice-bench",
            dependencies: [
                "SluiceKafka", "SluiceCore", "SluiceHTTP", "SluiceStage", "SluiceAdmin", .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Benchmarks/sluice-bench"),

        // Tests mirror Sources; integration tests share one broker fixture.
        .target(
            name: "SluiceTestSupport",
            dependencies: ["SluiceKafka", "SluiceCore", "SluiceStage"],
            path: "Tests/SluiceTestSupport"),
        .testTarget(
            name: "SluiceCoreTests",
            dependencies: ["SluiceCore", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(
            name: "SluiceKafkaTests",
            dependencies: ["SluiceKafka", "SluiceCore", "SluiceTestSupport"]),
        .testTarget(
            name: "SluiceHTTPTests",
            dependencies: ["SluiceHTTP", "SluiceCore", "SluiceTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "SluiceStageTests", dependencies: ["SluiceStage", "SluiceCore", "SluiceKafka", "SluiceTestSupport"]),
        .testTarget(
            name: "SluiceAdminTests",
            dependencies: ["SluiceAdmin", "SluiceCore", "SluiceKafka", "SluiceStage", "SluiceTestSupport"]),
        .testTarget(
            name: "SluiceDashboardTests",
            dependencies: ["SluiceDashboard", "SluiceAdmin", "SluiceCore", "SluiceTestSupport", .product(name: "Hummingbird", package: "hummingbird")]),
        .testTarget(
            name: "sluiceTests",
            dependencies: ["SluiceCore", "SluiceKafka", "SluiceStage", "SluiceTestSupport", .product(name: "Yams", package: "Yams")]),
    ]
)
