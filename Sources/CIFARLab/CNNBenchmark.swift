import Foundation
import NN
import Optim
import Support

/// Training and inference throughput of the CNN core, with the protocol of
/// `../shared/peers/torch_bench.py` so the two can be compared as ratios: random CIFAR-shaped
/// batches and labels, SGD (lr 0.01, momentum 0.9) on cross-entropy, 3 warm-up steps, training
/// for `seconds`, then inference for `seconds / 2`.
public enum CNNBenchmark {
    /// One model's throughput at one batch size.
    public struct Throughput: Sendable {
        public let model: String
        public let batch: Int
        public let trainImagesPerSecond: Double
        public let evalImagesPerSecond: Double
        /// Training images per second of the process's CPU time (every thread's): on a machine
        /// shared with other work, wall-clock rates follow the scheduler, this follows the code.
        public let trainImagesPerCPUSecond: Double
        /// Peak resident memory of the process while this model was measured.
        public let peakRSSMegabytes: Double
        /// With `explain`: each convolution and linear layer's time over training steps, and the
        /// steps' whole time, which the layers' shares are of.
        public let layers: [LayerProfile.Entry]
        public let profiledSeconds: Double
    }

    /// The measurements `optlab bench cnn` makes, as torch_bench.py makes them: every model
    /// `train` knows (`CIFARModels.names`).
    public static let cases: [(model: String, batch: Int)] = [
        ("tutorial", 4), ("tutorial", 64), ("vgg-small", 128), ("resnet18", 128), ("labnet", 256), ("airbench94", 1000),
    ]

    public static let csvHeader = ["model", "batch", "train_img_per_s", "eval_img_per_s", "peak_rss_mb", "train_img_per_cpu_s"]

    public static func measure(model: String, batch: Int, seconds: Double, explain: Bool = false, seed: UInt64 = 0) throws -> Throughput {
        PeakMemory.reset()
        let network = try CIFARModels.make(model, seed: seed)
        let optimizer = try Optimizer<Float>(OptimizerSpec.parse("sgd(lr=0.01,momentum=0.9)"), parameters: network.parameters)
        var random = Random(seed: seed)
        let input = Tensor(shape: [batch, 3, 32, 32])
        for i in 0..<input.count { input[i] = random.uniform(-1.7, 1.7) }
        let labels = (0..<batch).map { _ in Int(random.next() % 10) }
        let loss = CrossEntropyLoss()

        func step() throws {
            _ = try loss(network.forward(input, training: true), labels)
            network.backward(loss.gradient)
            optimizer.step()
        }
        for _ in 0..<3 { try step() }
        let training = try repeated(seconds: seconds, step)
        let eval = try throughput(seconds: seconds / 2, batch: batch) { _ = try network.forward(input, training: false) }
        let peak = PeakMemory.megabytes
        var (layers, profiled) = ([LayerProfile.Entry](), 0.0)
        if explain {
            LayerProfile.start()
            profiled = try repeated(seconds: seconds / 2, step).elapsed
            layers = LayerProfile.stop()
        }
        return Throughput(model: model, batch: batch, trainImagesPerSecond: Double(training.steps * batch) / training.elapsed,
                          evalImagesPerSecond: eval, trainImagesPerCPUSecond: Double(training.steps * batch) / training.cpu,
                      peakRSSMegabytes: peak, layers: layers, profiledSeconds: profiled)
    }

    /// What one optimizer step costs on a network's parameters (the update alone, as the
    /// training loop calls it after backward): `model`'s parameters, gradients set once to
    /// seeded random values, `steps` steps of `spec` per round, the fastest of `repeats` rounds
    /// on this thread's CPU clock (the update loops run on the calling thread).
    public struct OptimizerStep: Sendable {
        public let spec: OptimizerSpec
        /// Learnable tensors and their values in all.
        public let tensors: Int, values: Int
        public let secondsPerStep: Double
    }

    public static func optimizerStep(_ spec: OptimizerSpec, model: String, steps: Int, repeats: Int,
                                     seed: UInt64 = 0) throws -> OptimizerStep {
        let network = try CIFARModels.make(model, seed: seed)
        var random = Random(seed: seed)
        for p in network.parameters { for j in p.grad.indices { p.grad[j] = random.uniform(-1e-3, 1e-3) } }
        var best = Double.infinity
        for _ in 0..<repeats {
            // A fresh optimizer each round, so every round steps from the same state.
            let optimizer = try Optimizer<Float>(spec, parameters: network.parameters)
            let started = threadCPUSeconds()
            for _ in 0..<steps {
                if optimizer.needsClosure { try optimizer.step { 0 } } else { optimizer.step() }
            }
            best = min(best, threadCPUSeconds() - started)
        }
        return OptimizerStep(spec: spec, tensors: network.parameters.count, values: network.parameters.reduce(0) { $0 + $1.value.count },
                             secondsPerStep: best / Double(steps))
    }

    private static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// Images per second of `body` repeated until `seconds` have passed (at least once).
    private static func throughput(seconds: Double, batch: Int, _ body: () throws -> Void) throws -> Double {
        let run = try repeated(seconds: seconds, body)
        return Double(run.steps * batch) / run.elapsed
    }

    /// Runs `body` until `seconds` have passed (at least once): how often, in how many seconds,
    /// and in how many seconds of the process's CPU time.
    private static func repeated(seconds: Double, _ body: () throws -> Void) throws -> (steps: Int, elapsed: Double, cpu: Double) {
        let cpuStarted = processCPUSeconds()
        let started = ContinuousClock.now
        var steps = 0, elapsed = 0.0
        repeat {
            try body()
            steps += 1
            let d = started.duration(to: .now)
            elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        } while elapsed < seconds
        return (steps, elapsed, processCPUSeconds() - cpuStarted)
    }

    private static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}

/// The process's peak resident set (VmHWM), which Linux lets a process reset for itself.
enum PeakMemory {
    static func reset() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    static var megabytes: Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
        return kilobytes / 1024
    }
}
