// swift-tools-version:6.0
import PackageDescription

// Release builds specialise generic optimizer code across module boundaries, so one
// implementation per algorithm serves a 2-D point and a CNN at full speed.
// x86-64's baseline has no fused multiply-add, so each `addingProduct` in the update rules (they
// fuse where torch's kernels do) would be a libm call; -mfma (any x86 CPU since 2013) inlines it.
#if arch(x86_64)
let cpu = ["-Xcc", "-mfma", "-Xcc", "-fno-math-errno"]
#else
let cpu: [String] = []
#endif
let fast: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"] + cpu, .when(configuration: .release))]
// The network kernels (Winograd, batch norm, pooling: Swift SIMD loops) are optimised in debug
// builds too: the tests train real networks, and unoptimised SIMD code took the suite from 44 s
// to 210 s.
let kernels: [SwiftSetting] = fast + [.unsafeFlags(["-O"] + cpu, .when(configuration: .debug))]

let package = Package(
    name: "optlab",
    platforms: [.macOS(.v13)],
    products: [.executable(name: "optlab", targets: ["optlab"])],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        // Small shared support every other target may use: the durable atomic file writer, output
        // folders, CSV, number formatting, progress reporting and cancellation. Depends on nothing.
        .target(name: "Support", swiftSettings: fast),
        // Optimizers, learning-rate schedules and the spec grammar. Depends on nothing.
        .target(name: "Optim", swiftSettings: fast),
        // Analytic 2-D functions and formulas with exact gradients.
        .target(name: "Surfaces", swiftSettings: fast),
        // Figures, axes, contours and colour maps drawn with Cairo.
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        // Animations: GIF through giflib, H.264 MP4 through FFmpeg's libraries.
        .systemLibrary(name: "CGif", providers: [.apt(["libgif-dev"])]),
        .systemLibrary(name: "CFFmpeg", providers: [.apt(["libavcodec-dev", "libavformat-dev", "libswscale-dev"])]),
        // Optimised in debug builds too: unoptimised, an animation's pixel loops (palette, changed
        // rectangles) took the experiment tests, which animate the bowl race, from 5 s to 38 s.
        .target(name: "Plot", dependencies: ["CCairo", "CGif", "CFFmpeg", "Support"], swiftSettings: kernels),
        // Tensors, layers, losses and models on oneDNN kernels.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // optlab's own vector kernels in C, one source compiled per vector width with per-function
        // target attributes (AVX2, AVX-512) and chosen at run time, since Swift's SIMD code follows
        // module-wide flags and the binary must run on AVX2-only CPUs. -O3 in debug builds too.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "NN", dependencies: ["CDNNL", "CKernels", "Optim", "Support"], swiftSettings: kernels),
        // CIFAR-10 files, transforms, the batch loader and the archive download (gunzip via zlib).
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Data", dependencies: ["CZlib", "Support"], swiftSettings: fast),
        // The 2-D lab: optimizer paths over surfaces, learning-rate sweeps, the optimizer benchmark.
        // No oneDNN, no CIFAR: a server of 2-D sweeps links only this, Figures and what they use.
        .target(name: "SurfaceLab", dependencies: ["Optim", "Surfaces", "Support"], swiftSettings: fast),
        // The CIFAR lab: training plans, the trainer, checkpoints, evaluation, optimizer comparisons,
        // models and their recipes, the CNN benchmark.
        .target(name: "CIFARLab", dependencies: ["Optim", "NN", "Data", "Support"], swiftSettings: fast),
        // Figures of the 2-D lab's results, and the one style (colour, dash) per optimizer that every
        // figure uses.
        .target(name: "Figures", dependencies: ["Optim", "Surfaces", "Plot", "SurfaceLab", "Support"], swiftSettings: fast),
        // Figures of the CIFAR lab's results (training curves, confusion matrix).
        .target(name: "CIFARFigures", dependencies: ["Optim", "Plot", "Figures", "CIFARLab", "Support"], swiftSettings: fast),
        // Experiment files (YAML in experiments/): each runs a 2-D study and writes its figure and CSV.
        .target(name: "Experiments", dependencies: ["Optim", "Surfaces", "SurfaceLab", "Figures", "Support", "Yams"], swiftSettings: fast),
        // `optlab serve`: the playground over the 2-D lab and its figures, and the dashboard over the
        // CIFAR lab's checkpoints and CSVs, on Hummingbird; the page is static files (Public/).
        .target(name: "Server", dependencies: [
            "Optim", "Surfaces", "Plot", "Data", "SurfaceLab", "CIFARLab", "Figures", "Support",
            .product(name: "Hummingbird", package: "hummingbird"),
        ], resources: [.copy("Public")], swiftSettings: fast),
        // The command line: parsing and printing only.
        .executableTarget(name: "optlab", dependencies: [
            "Support", "Optim", "Surfaces", "NN", "Data", "SurfaceLab", "CIFARLab", "Figures", "CIFARFigures", "Experiments", "Server",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),

        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "OptimTests", dependencies: ["Optim"]),
        .testTarget(name: "SurfacesTests", dependencies: ["Surfaces"]),
        .testTarget(name: "PlotTests", dependencies: ["Plot", "CGif", "CFFmpeg"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Optim"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Support"]),
        .testTarget(name: "SurfaceLabTests", dependencies: ["SurfaceLab", "Optim", "Surfaces"]),
        .testTarget(name: "CIFARLabTests", dependencies: ["CIFARLab", "CIFARFigures", "NN", "Data", "Optim", "Support"]),
        .testTarget(name: "FiguresTests", dependencies: ["Figures", "CIFARFigures", "Experiments", "SurfaceLab", "CIFARLab", "Plot", "Optim", "Surfaces"]),
        // Runs the built optlab executable as a user would.
        .testTarget(name: "OptlabTests", dependencies: ["optlab", "CIFARLab", "NN", "Data", "Support"]),
        // Runs `optlab serve` and asks it over HTTP as the page does.
        .testTarget(name: "ServerTests", dependencies: ["Support", "optlab"]),
    ]
)

// Fuzz targets (`make fuzz`): one libFuzzer executable per parser of outside input. They start
// libFuzzer, which exists only with `-sanitize=fuzzer`, so they join the manifest only when
// OPTLAB_FUZZ is set; `swift build` and `swift test` never see them.
if Context.environment["OPTLAB_FUZZ"] != nil {
    package.targets += [
        .systemLibrary(name: "CFuzzer", path: "Fuzz/CFuzzer"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzer"], path: "Fuzz/Driver"),
    ]
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("spec", ["Optim"]), ("formula", ["Surfaces"]), ("experiment", ["Experiments"]), ("safetensors", ["NN"]),
        ("cifar", ["Data"]), ("archive", ["Data"]), ("checkpoint", ["CIFARLab", "Data"]),
    ]
    for target in fuzzTargets {
        package.targets.append(.executableTarget(name: "fuzz-\(target.name)", dependencies: ["FuzzDriver"] + target.dependencies,
                                                 path: "Fuzz/\(target.name)",
                                                 // gold fails on libFuzzer's runtime with sanitizers (an internal error); lld links it.
                                                 linkerSettings: [.unsafeFlags(["-use-ld=lld"])]))
        package.products.append(.executable(name: "fuzz-\(target.name)", targets: ["fuzz-\(target.name)"]))
    }
}
