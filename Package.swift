// swift-tools-version: 6.1
import PackageDescription

// Strict, warning-free Swift 6 everywhere.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(["-warnings-as-errors"]),
]

let package = Package(
    name: "enat-serve",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "enat", targets: ["ENATCLI"]),
        // For the fuzz package in Fuzz/ only: the parsers of untrusted input it drives.
        .library(name: "ModelFiles", targets: ["ModelFiles"]),
        .library(name: "ModelBundle", targets: ["ModelBundle"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        .library(name: "ImageAPI", targets: ["ImageAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries, found through pkg-config on Debian.
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // bfloat16 GEMM kernels (AVX2 + FMA, AVX-512 BF16), chosen at run time from the CPU's features.
        .target(name: "CGEMMKernels", path: "Sources/CGEMMKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // Makes every libpng call itself: libpng reports errors by longjmp, which Swift cannot catch.
        .target(name: "CPNGShim", dependencies: ["CLibPNG"], path: "Sources/CPNGShim"),

        // Compute core: BLAS calls, bfloat16 GEMMs, norms, activations, attention.
        .target(name: "Tensors", dependencies: ["COpenBLAS", "CGEMMKernels"], swiftSettings: strict),
        // Parsers for untrusted weight files (safetensors, PyTorch zip checkpoints).
        .target(name: "ModelFiles", swiftSettings: strict),
        // The ENAT transformer and its sampler.
        .target(name: "ENAT", dependencies: ["Tensors", "ModelFiles"], swiftSettings: strict),
        // The VQGAN decoder: image tokens to pixels.
        .target(name: "VQGAN", dependencies: ["Tensors", "ModelFiles"], swiftSettings: strict),
        // PNG encoding and progressive-preview frames.
        .target(name: "Imaging", dependencies: ["CPNGShim"], swiftSettings: strict),
        // Our HTTP/1.1 server on POSIX sockets: bytes, requests, responses; nothing of models.
        .target(name: "LockedValue", swiftSettings: strict),

        .target(name: "HTTPServer", dependencies: ["LockedValue"], swiftSettings: strict),
        // CLIP's text side: BPE tokenizer and text transformer (Hugging Face CLIPTextModel keys).
        .target(name: "CLIPText", dependencies: ["Tensors", "ModelFiles", "CZlib"], swiftSettings: strict),
        // A servable model: bundle folder or official files loaded into engine, decoder and renderer.
        .target(
            name: "ModelBundle", dependencies: ["ENAT", "VQGAN", "Imaging", "CLIPText", "ModelFiles", "Tensors"],
            swiftSettings: strict),
        // The batching scheduler: the only place where requests meet the engine.
        .target(name: "Scheduler", dependencies: ["ModelBundle", "ENAT", "Tensors", "LockedValue"], swiftSettings: strict),
        // The HTTP API (OpenAI Images, jobs, streams, health, metrics) on top of the scheduler.
        .target(name: "ImageAPI", dependencies: ["HTTPServer", "Scheduler", "ModelBundle", "LockedValue", "Tensors", "Imaging"], swiftSettings: strict),
        // Reproduces golden files: shared by `enat golden` and the tests.
        .target(name: "GoldenCheck", dependencies: ["ENAT", "VQGAN", "CLIPText", "ModelFiles", "Tensors"], swiftSettings: strict),

        .executableTarget(
            name: "ENATCLI",
            dependencies: [
                "ENAT", "GoldenCheck", "ModelFiles", "Tensors", "VQGAN", "CLIPText", "ModelBundle",
                "Scheduler", "ImageAPI", "HTTPServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // Seeded mutations of committed fixtures (issue #16's corpus), shared by the tests.
        .target(name: "MutationCorpus", path: "Tests/MutationCorpus", swiftSettings: strict),

        .testTarget(name: "TensorsTests", dependencies: ["Tensors"], swiftSettings: strict),
        .testTarget(name: "ModelFilesTests", dependencies: ["ModelFiles", "MutationCorpus"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "GoldenCheckTests", dependencies: ["GoldenCheck", "ENAT", "ModelFiles", "MutationCorpus"], exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(name: "VQGANTests", dependencies: ["VQGAN", "ModelFiles", "Tensors"], swiftSettings: strict),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "CZlib"], swiftSettings: strict),
        .testTarget(name: "LockedValueTests", dependencies: ["LockedValue"], swiftSettings: strict),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "LockedValue"], swiftSettings: strict),
        .testTarget(name: "CLIPTextTests", dependencies: ["CLIPText", "ModelFiles"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "ModelBundleTests", dependencies: ["ModelBundle", "ENAT", "VQGAN", "Imaging", "ModelFiles", "MutationCorpus"], swiftSettings: strict),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "ModelBundle", "ENAT", "VQGAN", "LockedValue"], swiftSettings: strict),
        .testTarget(name: "ImageAPITests", dependencies: ["ImageAPI", "Scheduler", "ModelBundle", "HTTPServer", "Tensors"], swiftSettings: strict),
        // Honest quality check of the committed demo bundles (a classifier trained by tools/train).
        .testTarget(name: "QualityTests", dependencies: ["ModelBundle", "ENAT", "Tensors", "ModelFiles", "VQGAN"], swiftSettings: strict),
        .testTarget(name: "ENATTests", dependencies: ["ENAT", "GoldenCheck", "ModelFiles", "Tensors"], exclude: ["Fixtures"], swiftSettings: strict),
    ]
)
