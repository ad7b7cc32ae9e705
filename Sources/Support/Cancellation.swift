import Foundation
import Synchronization

/// A request to stop long work early, checked by that work at safe points (the trainer between
/// two steps, which then writes a resumable checkpoint). Whoever runs the work owns it: the CLI
/// routes Ctrl-C to one (`Interrupt`), a server would cancel a job through one, a test requests
/// it after a chosen step.
public final class Cancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public var isRequested: Bool { flag.load(ordering: .relaxed) }

    public func request() { flag.store(true, ordering: .relaxed) }

    fileprivate func withdraw() { flag.store(false, ordering: .relaxed) }
}

/// Ctrl-C (and SIGTERM, what a scheduler such as Slurm sends at a time limit or on scancel) as a
/// request rather than a kill: while watched, either signal requests the token `watch()` returns.
/// A second signal exits at once, as users expect when the first seems to be ignored.
public enum Interrupt {
    /// A signal handler cannot capture anything, so the token it requests is this global one.
    private static let cancellation = Cancellation()
    private static let received = Atomic<Int32>(0)
    private static let signals = [SIGINT, SIGTERM]

    /// Routes SIGINT and SIGTERM to the returned token (no request pending) until `stopWatching()`.
    public static func watch() -> Cancellation {
        cancellation.withdraw()
        received.store(0, ordering: .relaxed)
        for number in signals {
            signal(number) { number in
                // Async-signal-safe: lock-free stores, then the default action for the next signal.
                Interrupt.received.store(number, ordering: .relaxed)
                Interrupt.cancellation.request()
                signal(number, SIG_DFL)
            }
        }
        return cancellation
    }

    /// The signal that requested the cancellation, by name (`SIGTERM`); nil while none has.
    public static var signalName: String? {
        switch received.load(ordering: .relaxed) {
        case 0: nil
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case let other: "signal \(other)"
        }
    }

    /// Restores the signals' default actions.
    public static func stopWatching() {
        for number in signals { signal(number, SIG_DFL) }
    }
}
