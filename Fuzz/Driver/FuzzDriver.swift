import CFuzzer
import Foundation

/// Runs libFuzzer with the command line's options, calling `body` once per input. SwiftPM gives
/// every executable its own `main`, so libFuzzer is started from there rather than from the
/// `main` it ships.
public func runFuzzer(_ body: @escaping (Data) -> Void) -> Never {
    target = body
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv) { bytes, count in
        target(bytes.map { Data(bytes: $0, count: count) } ?? Data())
        return 0
    })
}

/// libFuzzer calls back through a C function pointer, which cannot capture `body`; it runs
/// inputs one at a time on one thread.
nonisolated(unsafe) private var target: (Data) -> Void = { _ in }
