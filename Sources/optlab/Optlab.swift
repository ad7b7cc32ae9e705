import ArgumentParser
import Foundation
import NN

@main
struct Optlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optlab",
        abstract: "See how optimizers differ: on 2-D surfaces and on a real CIFAR-10 CNN.",
        subcommands: [TrajectoriesCommand.self, LRSweepCommand.self, LRFindCommand.self, PhaseMapCommand.self, RunCommand.self, DataCommand.self, TrainCommand.self, EvaluateCommand.self, CIFARCommand.self, LandscapeCommand.self, JobCommand.self, ServeCommand.self, Bench.self]
    )

    /// A bad OPTLAB_MAX_ISA is refused before any command runs a kernel.
    static func main() {
        do { _ = try KernelISA.environmentCap() } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            Foundation.exit(1)
        }
        main(nil)
    }
}
