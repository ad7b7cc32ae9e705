import Data
import Foundation
import NN

/// `optlab evaluate`: a checkpoint's accuracy on the test set, overall and per class.
public enum Evaluation {
    /// Loads the network in `checkpoint` and evaluates it on `test`. The input normalisation comes
    /// from the checkpoint; for a plain PyTorch `state_dict` file it is the model recipe's, whose
    /// dataset statistics need the training images (`train`, only called then). `augmented`
    /// (test-time augmentation) defaults to what the checkpoint's plan says.
    public static func run(checkpoint: URL, model: String?, test: Dataset, augmented: Bool? = nil,
                           train: () throws -> Dataset) throws -> (model: String, report: EvaluationReport) {
        let saved = try Checkpoint.network(checkpoint, model: model)
        let normalization: InputNormalization
        if let stored = saved.normalization {
            normalization = stored
        } else if CIFARModels.recipe(for: saved.network.name).normalization == .tutorial {
            normalization = .tutorial
        } else {
            normalization = InputNormalization(statisticsOf: try train())
        }
        let augmented = augmented ?? saved.plan?.testTimeAugmentation ?? false
        return (saved.network.name, try Trainer.evaluate(saved.network, on: Trainer.testLoader(test, normalization), augmented: augmented).report)
    }
}
