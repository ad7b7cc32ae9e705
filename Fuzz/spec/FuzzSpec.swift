import FuzzDriver
import Optim

/// An optimizer spec list as typed: it parses or throws, never traps; a spec that parses builds
/// an optimizer that steps and advances its schedule. Steps go through `step(closure:)` on the loss
/// ½‖x‖², which every algorithm takes (SAM and LBFGS evaluate it several times; plain `step()` is a
/// precondition failure for them, as torch's LBFGS raises without a closure).
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
                    try? optimizer.step {
                        grad[0] = value[0]
                        grad[1] = value[1]
                        return 0.5 * (value[0] * value[0] + value[1] * value[1])
                    }
                    try? optimizer.scheduleStep()
                }
            }
        }
    }
}
