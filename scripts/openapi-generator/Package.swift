// swift-tools-version:6.2
//
// Builds apple/swift-openapi-generator's command-line tool, outside Sluice's own package
// graph, so that neither a build nor `make test` pays for it (OpenAPIKit and the generator
// take minutes on 2 cores). `make openapi` builds it into .build-openapi/ and regenerates
// Sources/SluiceAdmin/Generated/ from Sources/SluiceAdmin/openapi.yaml; the output is
// committed.
import PackageDescription

let package = Package(
    name: "SluiceOpenAPIGenerator",
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", exact: "1.14.3"),
    ],
    targets: []
)
