import Experiments
import FuzzDriver

/// An experiment file: it parses into a checked experiment or throws, never traps.
@main enum FuzzExperiment {
    static func main() {
        runFuzzer { input in
            let text = String(decoding: input, as: UTF8.self)
            _ = try? Experiment.parse(text, name: "fuzz")
        }
    }
}
