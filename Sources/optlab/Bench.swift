import ArgumentParser

struct Bench: ParsableCommand {
    /// Every benchmark; the first one is what a bare `optlab bench` runs.
    static let benchmarks: [ParsableCommand.Type] = [
        BenchCNN.self,
        BenchOptim.self,
    ]

    static let configuration = CommandConfiguration(
        abstract: "Measure optlab's hot loops (figures are only meaningful in release builds).",
        discussion: """
            Examples:
              swift build -c release && .build/release/optlab bench          # the CNN benchmark
              .build/release/optlab bench optim
            """,
        subcommands: benchmarks,
        defaultSubcommand: benchmarks.first
    )
}
