import Data
import Foundation
import FuzzDriver

/// CIFAR-10 files: the input is the class-name file, a batch file of the wrong size, and (tiled to
/// the right size) the test batch; each loads or is refused with a message, never traps.
@main enum FuzzCIFAR {
    static func main() {
        runFuzzer { input in
            try! input.write(to: folder.appendingPathComponent(CIFAR10.metaFile))
            try! input.write(to: folder.appendingPathComponent(CIFAR10.trainFiles[0]))
            _ = try? CIFAR10.load(.train, from: folder)
            guard !input.isEmpty else { return }
            var batch = Data(capacity: CIFAR10.fileBytes)
            while batch.count < CIFAR10.fileBytes { batch.append(input.prefix(CIFAR10.fileBytes - batch.count)) }
            try! batch.write(to: folder.appendingPathComponent(CIFAR10.testFiles[0]))
            _ = try? CIFAR10.load(.test, from: folder)
        }
    }
}

private let folder: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-fuzz-cifar-\(getpid())")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}()
