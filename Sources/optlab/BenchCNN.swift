import ArgumentParser
import Foundation
import CIFARLab
import NN
import Support

struct BenchCNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnn",
        abstract: "Training and inference images/s of the CNN models, as ../shared/peers/torch_bench.py measures PyTorch.",
        discussion: """
            Random CIFAR-shaped batches, SGD (lr 0.01, momentum 0.9) on cross-entropy, 3 warm-up steps, \
            training for --seconds, then inference for half as long: tutorial at batch 4 and 64, vgg-small \
            and resnet18 at batch 128, labnet at 256. Run the PyTorch peer right before or after and \
            compare ratios. --explain then trains for another half --seconds timing each convolution and \
            linear layer (with a split batch, the first slice's layers).

            Examples:
              swift build -c release && .build/release/optlab bench cnn
              .build/release/optlab bench --models tutorial,vgg-small --seconds 5 --csv bench.csv
              .build/release/optlab bench --models resnet18 --explain
              .build/release/optlab bench --models vgg-small --convolutions direct
              OPTLAB_MAX_ISA=avx2 .build/release/optlab bench --models resnet18
              .build/release/optlab bench --models labnet --precision bf16
              /tmp/torchenv/bin/python ../shared/peers/torch_bench.py --threads 2 --seconds 10 --models tutorial,vgg_small,resnet18,labnet
            """
    )

    @Option(help: "Comma-separated models to measure (\(Set(CNNBenchmark.cases.map(\.model)).sorted().joined(separator: ", "))).")
    var models = "tutorial,vgg-small,resnet18,labnet"

    @Flag(help: "Also print, per convolution and linear layer, the algorithm chosen, its GFLOP/s (a direct convolution's count of operations) and its share of a training step.")
    var explain = false

    @Option(help: "Seconds of training per measurement (inference runs half as long).")
    var seconds = 10.0

    @Option(help: "Also write the measurements to this CSV file.")
    var csv: String?

    @OptionGroup var kernels: KernelOptions

    func validate() throws {
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be a positive number") }
        let known = Set(CNNBenchmark.cases.map(\.model))
        for name in selected where !known.contains(name) {
            throw ValidationError("unknown model '\(name)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        if selected.isEmpty { throw ValidationError("--models is empty") }
    }

    private var selected: [String] { models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func run() throws {
        #if DEBUG
        print("note: this is a debug build; build with `swift build -c release` for real figures")
        #endif
        let locks = try PathLock.outputs([csv])
        defer { withExtendedLifetime(locks) {} }
        kernels.apply()
        print("optlab CNN benchmark, \(Threads.count) threads, \(kernels.precision.rawValue), \(kernels.convolutions.rawValue) 3×3 convolutions (optlab kernels: \(KernelISA.current.rawValue)), \(seconds) s per measurement")
        var table = CSVTable(header: CNNBenchmark.csvHeader)
        for (model, batch) in CNNBenchmark.cases where selected.contains(model) {
            let f = try CNNBenchmark.measure(model: model, batch: batch, seconds: seconds, explain: explain)
            let name = model.padding(toLength: 10, withPad: " ", startingAt: 0)
            print(name + String(format: " batch %4d: train %9.1f img/s   eval %9.1f img/s   peak RSS %7.1f MB   train %9.1f img/CPU-s",
                                batch, f.trainImagesPerSecond, f.evalImagesPerSecond, f.peakRSSMegabytes, f.trainImagesPerCPUSecond))
            table.append([model, batch, f.trainImagesPerSecond, f.evalImagesPerSecond, f.peakRSSMegabytes, f.trainImagesPerCPUSecond])
            if explain { printLayers(f) }
        }
        if let csv { try AtomicFile.write(table.text, to: csv) }
    }

    /// One line per layer, then what the rest of the step took (batch norm, pooling, loss, optimizer).
    private func printLayers(_ f: CNNBenchmark.Throughput) {
        let width = max(24, f.layers.map(\.path.count).max() ?? 0)
        let algorithmWidth = max(20, f.layers.map(\.algorithm.count).max() ?? 0)
        print("  " + "layer".padding(toLength: width, withPad: " ", startingAt: 0) + "  "
              + "algorithm".padding(toLength: algorithmWidth, withPad: " ", startingAt: 0) + "   GFLOP/s   share")
        for layer in f.layers {
            print("  " + layer.path.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                  + layer.algorithm.padding(toLength: algorithmWidth, withPad: " ", startingAt: 0)
                  + String(format: " %9.1f %6.1f %%", layer.gigaflopsPerSecond, 100 * layer.seconds / f.profiledSeconds))
        }
        let rest = 1 - f.layers.map(\.seconds).reduce(0, +) / f.profiledSeconds
        print("  " + "everything else".padding(toLength: width + algorithmWidth + 12, withPad: " ", startingAt: 0) + String(format: " %6.1f %%", 100 * rest))
    }
}

