import Data
import Foundation
import NN

/// `optlab evaluate`: a checkpoint's accuracy on the test set, overall and per class.
public enum Evaluation {
    /// Loads the network in `checkpoint` and evaluates it on `test`. The input normalisation comes
    /// from the checkpoint; for a plain PyTorch `state_dict` file it is the model recipe's, whose
    /// dataset statistics need the training images (`train`, only called then).
    public static func run(checkpoint: URL, model: String?, test: Dataset,
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
        return (saved.network.name, try Trainer.evaluate(saved.network, on: Trainer.testLoader(test, normalization)).report)
    }
}
