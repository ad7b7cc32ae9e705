import FuzzDriver
import Optim

/// An optimizer spec list as typed: it parses or throws, never traps; a spec that parses builds
/// an optimizer that steps and advances its schedule.
@main enum FuzzSpec {
    static func main() {
        runFuzzer { input in
            let text = String(decoding: input, as: UTF8.self)
            guard let specs = try? OptimizerSpec.parseList(text) else { return }
            let value = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2)
            let grad = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2)
            defer { value.deallocate(); grad.deallocate() }
            for spec in specs {
                _ = value.initialize(from: [1, -1])
                _ = grad.initialize(from: [0.5, -2])
                guard let optimizer = try? Optimizer(spec.fillingTotalSteps(10), parameters: [Parameter(name: "", value: value, grad: grad)]) else { continue }
                for _ in 0..<3 {
                    optimizer.step()
                    try? optimizer.scheduleStep()
                }
            }
        }
    }
}
