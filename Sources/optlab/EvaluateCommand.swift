import ArgumentParser
import Data
import Foundation
import CIFARFigures
import CIFARLab
import Support

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Test-set accuracy of a checkpoint: overall, per class, and a confusion matrix.",
        discussion: """
            Loads the model named in the checkpoint (or --model for a plain PyTorch state_dict saved \
            with safetensors) and evaluates it on the 10,000 test images.

            Examples:
              optlab evaluate --checkpoint checkpoints/run.safetensors
              optlab evaluate --checkpoint checkpoints/run.safetensors --json
              optlab evaluate --checkpoint checkpoints/run.safetensors --tta   # flip + translate views
              optlab evaluate --checkpoint torch-net.safetensors --model tutorial
            """
    )

    @Option(help: ArgumentHelp("The checkpoint written by `optlab train` (or a safetensors state_dict).", valueName: "file"))
    var checkpoint: String

    @Option(help: "The model the checkpoint holds; required when the file has no optlab metadata.")
    var model: String?

    @Option(help: ArgumentHelp("The cifar-10-batches-bin folder (default: see `optlab data --help`).", valueName: "dir"))
    var data: String?

    @Flag(name: .customLong("tta"), inversion: .prefixedNo, help: "Test-time augmentation: logits averaged over the image, its mirror and one-pixel translations (default: as the checkpoint's run was planned; off for a plain state_dict).")
    var testTimeAugmentation: Bool?

    @Flag(help: "Print one JSON object: accuracy, per_class, confusion (rows = true class), images.")
    var json = false

    @Option(help: ArgumentHelp("The confusion-matrix figure (.png, .svg or .pdf; a CSV is written beside it). "
                               + "Default: plots/confusion-<checkpoint name>.png", valueName: "file"))
    var figure: String?

    func run() throws {
        let name = URL(fileURLWithPath: checkpoint).deletingPathExtension().lastPathComponent
        let figurePath = figure ?? "plots/confusion-\(name).png"
        let csvPath = (figurePath as NSString).deletingPathExtension + ".csv"
        try OutputFolder.createParent(of: figurePath)
        let locks = try PathLock.outputs([figurePath, csvPath])
        defer { withExtendedLifetime(locks) {} }
        let folder = try DataLocation.find(option: data).folder
        let test = try CIFAR10.load(.test, from: folder)
        let (evaluated, report) = try Evaluation.run(checkpoint: URL(fileURLWithPath: checkpoint), model: model, test: test,
                                                           augmented: testTimeAugmentation) {
            try CIFAR10.load(.train, from: folder)
        }
        let fileName = URL(fileURLWithPath: checkpoint).lastPathComponent
        try report.confusionFigure(title: "CIFAR-10 test set, \(evaluated) (\(fileName)): \(String(format: "%.2f", 100 * report.accuracy)) % correct")
            .save(to: figurePath)
        try AtomicFile.write(report.confusionTable.text, to: csvPath)
        if json {
            print(try report.json())
        } else {
            print(report.text)
            print("Wrote \(figurePath) and \(csvPath)")
        }
    }
}
