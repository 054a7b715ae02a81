// swift-tools-version: 6.1
import PackageDescription

// Strict, warning-free Swift 6 everywhere. MemberImportVisibility: a file uses only the members
// of modules it imports itself, so the imports (and the dependencies below, which must equal them:
// tools/check-package) cannot lean on what another file or target happens to import.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(["-warnings-as-errors"]),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    // Linux only (no `platforms`): the HTTP server uses Linux socket flags (SOCK_NONBLOCK,
    // MSG_NOSIGNAL), the kernels x86-64 cpuid, and OpenBLAS, libpng and zlib come from apt.
    name: "enat-serve",
    products: [
        .executable(name: "enat", targets: ["ENATCLI"]),
        // For the fuzz package in Fuzz/ only: the parsers of untrusted input it drives.
        .library(name: "ModelFiles", targets: ["ModelFiles"]),
        .library(name: "ModelBundle", targets: ["ModelBundle"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        .library(name: "ImageAPI", targets: ["ImageAPI"]),
        .library(name: "Imaging", targets: ["Imaging"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
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
            name: "CLibJPEG", path: "Sources/CLibJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(
            name: "CLibWebP", path: "Sources/CLibWebP", pkgConfig: "libwebp",
            providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // bfloat16 GEMM kernels (AVX2 + FMA, AVX-512 BF16), chosen at run time from the CPU's features.
        .target(name: "CGEMMKernels", path: "Sources/CGEMMKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // Makes every libpng call itself: libpng reports errors by longjmp, which Swift cannot catch.
        .target(name: "CPNGShim", dependencies: ["CLibPNG"], path: "Sources/CPNGShim"),
        // The same for libjpeg, whose error_exit must longjmp. libwebp returns status codes and
        // is called from Swift directly.
        .target(name: "CJPEGShim", dependencies: ["CLibJPEG"], path: "Sources/CJPEGShim"),

        // Compute core: BLAS calls, bfloat16 GEMMs, norms, activations, attention.
        .target(name: "Tensors", dependencies: ["COpenBLAS", "CGEMMKernels"], swiftSettings: strict),
        // Parsers for untrusted weight files (safetensors, PyTorch zip checkpoints).
        .target(name: "ModelFiles", swiftSettings: strict),
        // The ENAT transformer and its sampler.
        .target(name: "ENAT", dependencies: ["Tensors", "ModelFiles"], swiftSettings: strict),
        // The VQGAN decoder: image tokens to pixels.
        .target(name: "VQGAN", dependencies: ["Tensors", "ModelFiles"], swiftSettings: strict),
        // Image codecs (PNG, JPEG, WebP; untrusted input decoded within limits), resampling,
        // progressive-preview frames.
        .target(name: "Imaging", dependencies: ["CPNGShim", "CJPEGShim", "CLibWebP"], swiftSettings: strict),
        // `Locked<Value>`: the lock-guarded state the server, scheduler and API share.
        .target(name: "LockedValue", swiftSettings: strict),
        // `Duration` in seconds as a `Double`: the server, the scheduler, the API and the benchmarks need it.
        .target(name: "DurationSeconds", swiftSettings: strict),
        // Our HTTP/1.1 server on POSIX sockets: bytes, requests, responses; nothing of models.
        .target(name: "HTTPServer", dependencies: ["LockedValue", "DurationSeconds"], swiftSettings: strict),
        // CLIP's text side: BPE tokenizer and text transformer (Hugging Face CLIPTextModel keys).
        .target(name: "CLIPText", dependencies: ["Tensors", "ModelFiles", "CZlib"], swiftSettings: strict),
        // A servable model: bundle folder or official files loaded into engine, decoder and renderer.
        .target(
            name: "ModelBundle", dependencies: ["ENAT", "VQGAN", "Imaging", "CLIPText", "ModelFiles", "Tensors"],
            swiftSettings: strict),
        // The batching scheduler: the only place where requests meet the engine.
        .target(name: "Scheduler", dependencies: ["ModelBundle", "ENAT", "Tensors", "LockedValue", "DurationSeconds"], swiftSettings: strict),
        // The HTTP API (OpenAI Images, jobs, streams, health, metrics) on top of the scheduler.
        .target(
            name: "ImageAPI",
            dependencies: ["HTTPServer", "Scheduler", "ModelBundle", "LockedValue", "Tensors", "ENAT", "ServerLog", "DurationSeconds", "Imaging"],
            swiftSettings: strict),
        // One-line structured logs on stderr (JSON or text), shared by the API and the executable.
        .target(name: "ServerLog", swiftSettings: strict),
        // Every setting of `enat serve` declared once; the file, environment and flag readers; the
        // parts each component gets.
        .target(
            name: "ServerSettings", dependencies: ["ServerLog", "Tensors", "ModelBundle", "HTTPServer", "Scheduler", "ImageAPI"],
            swiftSettings: strict),
        // Reproduces golden files: shared by `enat golden` and the tests.
        .target(name: "GoldenCheck", dependencies: ["ENAT", "VQGAN", "CLIPText", "ModelFiles", "Tensors"], swiftSettings: strict),
        // `enat bench`'s timings (sampler with its GEMMs replayed through OpenBLAS alone, VQGAN decode, mosaic frames):
        // kept out of the engine's targets, which know of them only through `BLAS.gemmObserver`.
        .target(
            name: "Benchmarks", dependencies: ["ENAT", "VQGAN", "Imaging", "ModelFiles", "Tensors", "DurationSeconds"],
            swiftSettings: strict),

        .executableTarget(
            name: "ENATCLI",
            dependencies: [
                "ENAT", "GoldenCheck", "ModelFiles", "Tensors", "VQGAN", "Imaging", "ModelBundle",
                "Scheduler", "ImageAPI", "HTTPServer", "ServerLog", "ServerSettings", "Benchmarks", "DurationSeconds",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // Seeded mutations of committed fixtures (issue #16's corpus), shared by the tests.
        .target(name: "MutationCorpus", dependencies: ["TestSupport"], path: "Tests/MutationCorpus", swiftSettings: strict),
        // What several test targets share: the golden folder (ENAT_GOLDEN_DIR), a loopback socket, `blocking`, SplitMix64.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),

        .testTarget(name: "TensorsTests", dependencies: ["Tensors"], swiftSettings: strict),
        .testTarget(
            name: "ModelFilesTests", dependencies: ["ModelFiles", "MutationCorpus", "TestSupport"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "GoldenCheckTests", dependencies: ["GoldenCheck", "Tensors", "ModelFiles", "MutationCorpus", "TestSupport"], exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(
            name: "VQGANTests", dependencies: ["VQGAN", "ModelFiles", "TestSupport"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "CZlib"], swiftSettings: strict),
        .testTarget(name: "LockedValueTests", dependencies: ["LockedValue"], swiftSettings: strict),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "LockedValue", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CLIPTextTests", dependencies: ["CLIPText", "ModelFiles", "TestSupport"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "ModelBundleTests",
            dependencies: ["ModelBundle", "ENAT", "VQGAN", "Imaging", "ModelFiles", "CLIPText", "MutationCorpus", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "ModelBundle", "ENAT", "VQGAN", "LockedValue"], swiftSettings: strict),
        .testTarget(
            name: "ImageAPITests",
            dependencies: [
                "ImageAPI", "Scheduler", "ModelBundle", "HTTPServer", "Tensors", "ENAT", "LockedValue", "VQGAN", "CLIPText", "ServerLog",
                "Imaging", "TestSupport",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ServerSettingsTests", dependencies: ["ServerSettings", "ServerLog", "Tensors", "HTTPServer", "Scheduler", "ImageAPI"],
            swiftSettings: strict),
        .testTarget(name: "ServerLogTests", dependencies: ["ServerLog"], swiftSettings: strict),
        .testTarget(
            name: "ENATCLITests",
            dependencies: [
                "ENATCLI", "ServerSettings", "ServerLog", "ImageAPI", "Scheduler", "ModelBundle", "ENAT", "HTTPServer", "VQGAN", "CLIPText",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        // Honest quality check of the committed demo bundles (a classifier trained by tools/train).
        .testTarget(
            name: "QualityTests", dependencies: ["ModelBundle", "ENAT", "Tensors", "ModelFiles", "VQGAN"],
            swiftSettings: strict),
        .testTarget(
            name: "ENATTests", dependencies: ["ENAT", "GoldenCheck", "ModelFiles", "TestSupport"], exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"], swiftSettings: strict),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Tensors"], swiftSettings: strict),
    ]
)
