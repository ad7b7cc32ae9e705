import ArgumentParser

@main
struct Optlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optlab",
        abstract: "See how optimizers differ: on 2-D surfaces and on a real CIFAR-10 CNN.",
        subcommands: [TrajectoriesCommand.self, LRSweepCommand.self, LRFindCommand.self, PhaseMapCommand.self, RunCommand.self, DataCommand.self, TrainCommand.self, EvaluateCommand.self, CIFARCommand.self, ServeCommand.self, Bench.self]
    )
}
