import Foundation
import FuzzDriver
@testable import Data

/// CIFAR-10's files: the input as the class-name file and as batch records; each is accepted or
/// refused with a message, never a trap. (The batch file's size is checked before it is read, so
/// only its records' contents are worth fuzzing.)
@main enum FuzzCIFAR {
    static func main() {
        runFuzzer { input in
            _ = try? CIFAR10.classNames(parsing: String(decoding: input, as: UTF8.self), source: "fuzz")
            _ = try? CIFAR10.checkLabels(input, source: "fuzz")
        }
    }
}
