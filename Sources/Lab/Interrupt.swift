import Foundation
import Synchronization

/// Ctrl-C as a request rather than a kill: long work polls `Interrupt.requested` at safe points
/// (between training steps) and finishes cleanly, e.g. by writing a resumable checkpoint.
/// A second Ctrl-C exits at once, as users expect when the first seems to be ignored.
public enum Interrupt {
    private static let flag = Atomic<Bool>(false)

    /// Routes SIGINT to the flag until `stopWatching()`.
    public static func watch() {
        flag.store(false, ordering: .relaxed)
        signal(SIGINT) { _ in
            // Async-signal-safe: a lock-free store, then the default action for the next Ctrl-C.
            Interrupt.flag.store(true, ordering: .relaxed)
            signal(SIGINT, SIG_DFL)
        }
    }

    /// Restores Ctrl-C's default action and forgets any pending request.
    public static func stopWatching() {
        signal(SIGINT, SIG_DFL)
        flag.store(false, ordering: .relaxed)
    }

    public static var requested: Bool { flag.load(ordering: .relaxed) }

    /// What Ctrl-C does, for callers that stop work for their own reasons (and tests).
    public static func request() { flag.store(true, ordering: .relaxed) }
}
