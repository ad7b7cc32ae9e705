import Data
import Foundation
import Support

/// What `optlab evaluate` reports: overall and per-class accuracy and the confusion matrix.
public struct EvaluationReport: Equatable, Sendable {
    public let classNames: [String]
    /// confusion[true class][predicted class] = number of images.
    public let confusion: [[Int]]

    public init(classNames: [String], predictions: [Int], labels: [Int]) {
        precondition(predictions.count == labels.count, "one prediction per label")
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classNames.count), count: classNames.count)
        for (predicted, truth) in zip(predictions, labels) { confusion[truth][predicted] += 1 }
        self.classNames = classNames
        self.confusion = confusion
    }

    public var images: Int { confusion.joined().reduce(0, +) }

    public var accuracy: Double {
        images == 0 ? 0 : Double(confusion.indices.reduce(0) { $0 + confusion[$1][$1] }) / Double(images)
    }

    /// Accuracy within each true class (recall), in class order.
    public var perClass: [Double] {
        confusion.indices.map { c in
            let total = confusion[c].reduce(0, +)
            return total == 0 ? 0 : Double(confusion[c][c]) / Double(total)
        }
    }

    /// `{"accuracy": 0–1, "per_class": {name: 0–1}, "confusion": [[…]] (rows = true class), "images": n}`.
    public func json() throws -> String {
        let object: [String: Any] = [
            "accuracy": accuracy,
            "per_class": Dictionary(uniqueKeysWithValues: zip(classNames, perClass)),
            "confusion": confusion,
            "images": images,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// The human-readable summary: overall accuracy, then one line per class.
    public var text: String {
        let width = classNames.map(\.count).max() ?? 0
        let rows = zip(classNames, zip(perClass, confusion)).map { name, entry in
            let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
            return "  \(padded)  \(percent(entry.0))  (\(entry.1.reduce(0, +)) images)"
        }
        return (["Accuracy on \(images.grouped) test images: \(percent(accuracy))", "Per class:"] + rows).joined(separator: "\n")
    }

    private func percent(_ value: Double) -> String { String(format: "%5.1f %%", 100 * value) }
}

extension EvaluationReport {
    /// The confusion counts with class names, for the CSV beside the figure.
    public var confusionTable: CSVTable {
        var table = CSVTable(header: ["true_class"] + classNames.map { "predicted_\($0)" })
        for (name, row) in zip(classNames, confusion) { table.append([name] + row) }
        return table
    }
}
