import FuzzDriver
import Surfaces

/// A formula as typed: it parses (and is differentiated) or throws, never traps or hangs; its
/// value and gradient evaluate.
@main enum FuzzFormula {
    static func main() {
        runFuzzer { input in
            let text = String(decoding: input, as: UTF8.self)
            guard let surface = try? Surface.named(text) else { return }
            _ = surface.value(surface.start.x, surface.start.y)
            _ = surface.gradient(surface.start.x, surface.start.y)
        }
    }
}
