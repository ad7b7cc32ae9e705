import CIFARLab
import Data
import Foundation
import FuzzDriver

/// A checkpoint file (safetensors whose metadata holds the plan, metrics and position): loading
/// it for evaluation or to resume gives a network or an error, never a trap or a huge allocation.
@main enum FuzzCheckpoint {
    static func main() {
        runFuzzer { input in
            try! input.write(to: file)
            _ = try? Checkpoint.network(file)
            _ = try? Checkpoint.resume(file, train: images, test: images)
        }
    }
}

private let file = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-fuzz-checkpoint-\(getpid()).safetensors")
private let images = Dataset(split: .test, images: [UInt8](repeating: 128, count: 20 * CIFAR10.imageBytes),
                             labels: (0..<20).map { UInt8($0 % 10) }, classNames: (0..<10).map { "class \($0)" })
