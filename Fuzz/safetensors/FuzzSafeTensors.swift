import FuzzDriver
import Foundation
import NN

/// A safetensors file: it parses or throws, never traps; every tensor it lists reads as its dtype,
/// and writing it back gives a file that parses to the same tensors and metadata.
@main enum FuzzSafeTensors {
    static func main() {
        runFuzzer { input in
            guard let file = try? SafeTensors(input) else { return }
            for name in file.names {
                let entry = file.entries[name]!
                switch entry.dtype {
                case .f32: _ = try! file.tensor(name)
                case .f64: _ = try! file.doubles(name)
                case .i64: _ = try! file.int64s(name)
                case .i32: break
                }
            }
            let copy = try! SafeTensors(try! file.serialized())
            precondition(copy.names == file.names && copy.metadata == file.metadata, "a written file reads back differently")
            for name in file.names {
                precondition(copy.entries[name]!.shape == file.entries[name]!.shape, "tensor \(name) reads back with another shape")
            }
        }
    }
}
