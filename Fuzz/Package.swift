// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for the parsers of untrusted input, kept apart (as swift-nio does) so that
// `swift test` of the main package stays plain. Build and run through tools/fuzz.
let package = Package(
    name: "enat-serve-fuzz",
    dependencies: [
        .package(name: "enat-serve", path: "..")
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver, which main.swift calls.
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "EnatFuzz",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "ModelFiles", package: "enat-serve"),
                .product(name: "ModelBundle", package: "enat-serve"),
                .product(name: "HTTPServer", package: "enat-serve"),
                .product(name: "ImageAPI", package: "enat-serve"),
                .product(name: "Imaging", package: "enat-serve"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-warnings-as-errors"])]),
    ]
)
