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

/// Ctrl-C as a request rather than a kill: while watched, SIGINT requests the token `watch()` returns.
/// A second Ctrl-C exits at once, as users expect when the first seems to be ignored.
public enum Interrupt {
    /// A signal handler cannot capture anything, so the token it requests is this global one.
    private static let cancellation = Cancellation()

    /// Routes SIGINT to the returned token (no request pending) until `stopWatching()`.
    public static func watch() -> Cancellation {
        cancellation.withdraw()
        signal(SIGINT) { _ in
            // Async-signal-safe: a lock-free store, then the default action for the next Ctrl-C.
            Interrupt.cancellation.request()
            signal(SIGINT, SIG_DFL)
        }
        return cancellation
    }

    /// Restores Ctrl-C's default action.
    public static func stopWatching() {
        signal(SIGINT, SIG_DFL)
    }
}
