import ArgumentParser
import Dispatch
import Foundation
import Server

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "The playground and the live run dashboard in the browser.",
        discussion: """
            Serves a page (no internet needed) with two views. Playground: pick a surface or type a \
            formula, click to set the start, add any optimizer and schedule by spec with sliders for \
            their main keywords (built from the optimizer registry), noise and seeds (fans around the \
            median) and the state arrows of --show, play the paths step by step, copy the \
            `optlab trajectories` line that reproduces the view, download its PNG/SVG/PDF/GIF/MP4 and \
            CSV. Dashboard: the runs under --runs (checkpoints written by `optlab train`, CSVs written \
            by `optlab cifar`, job folders written by `optlab cifar --jobs` with each run's state), \
            their curves updated while they train, several compared on one chart, and a finished \
            run's plan, per-class accuracy and confusion matrix (evaluated on the test set when asked).

            Listens on 127.0.0.1 only unless --host says otherwise; Ctrl-C stops it. It never writes \
            under --runs (a GIF or MP4 is encoded in a temporary file, removed once sent). Each request \
            is capped: at most 10000 steps, 12 optimizers, 50 seeds and 250000 points of paths; an \
            animation at most 200 megapixels of frames, one encoded at a time.

            Examples:
              optlab serve                      # then open http://127.0.0.1:8080/
              optlab serve --port 9000 --runs checkpoints
              optlab serve --port 0             # any free port, printed
            """
    )

    @Option(help: "The address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).")
    var host = "127.0.0.1"

    @Option(help: "The port (0: any free one).")
    var port = 8080

    @Option(help: ArgumentHelp("The folder whose runs the dashboard lists (default: checkpoints, where `optlab train` writes).",
                               valueName: "dir"))
    var runs: String?

    @Option(help: ArgumentHelp("The cifar-10-batches-bin folder for evaluating finished runs (default: see `optlab data --help`).",
                               valueName: "dir"))
    var data: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        // The default folder may not exist yet: the dashboard then lists nothing until a run writes there.
        var isFolder: ObjCBool = false
        if let runs, !(FileManager.default.fileExists(atPath: runs, isDirectory: &isFolder) && isFolder.boolValue) {
            throw ValidationError("--runs \(runs) is not a folder")
        }
    }

    func run() throws {
        let runs = runs ?? "checkpoints"
        let server = try Server(host: host, port: port, runs: URL(fileURLWithPath: runs), data: data)
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.run { address in printNow("optlab serve: \(address)  (runs: \(runs); Ctrl-C stops)") }
            } catch {
                outcome.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw Failure("cannot serve on \(host):\(port): \(error)") }
        print("optlab serve: stopped")
    }
}

/// How the server's task ended, handed back to the blocked main thread.
private final class Outcome: @unchecked Sendable {
    var error: Error?
}
