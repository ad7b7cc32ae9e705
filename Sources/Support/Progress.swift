import Foundation

/// What long work tells about its progress: the CLI's bar, a server's event stream, or nothing.
/// Called from any thread.
public protocol ProgressObserver: Sendable {
    func advance(by count: Int)
    /// The work is over (the bar erases itself so the caller's summary line starts clean).
    func finish()
}

/// A one-line progress bar on stderr with rate and ETA, e.g.
/// `epoch 3  [#########...........]  21,504/50,000  2,871 img/s  ETA 0:10`.
/// It draws only when stderr is a terminal, so logs and pipes get the plain per-epoch lines alone.
/// Safe to update from any thread; redraws at most ten times a second.
public final class ProgressBar: ProgressObserver, @unchecked Sendable {  // mutable state is guarded by `lock`
    public enum Unit: Sendable {
        case items(String)  // counted things: "img", "run", "step"
        case bytes          // shown as kB/MB/GB
    }

    private let label: String
    private var total: Int?
    private let unit: Unit
    private let enabled: Bool
    private let start = Date()
    private let lock = NSLock()
    private var completed = 0
    private var lastDraw = Date.distantPast
    private var drawn = false

    /// `total` may be nil (unknown size); `enabled` defaults to "stderr is a terminal".
    public init(_ label: String, total: Int?, unit: Unit = .items("img"), enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = enabled
    }

    public func advance(by count: Int = 1) { update { $0 += count } }

    /// Sets the count, and the total when it becomes known (a download learns its size late).
    public func set(completed: Int, total: Int? = nil) {
        update {
            $0 = completed
            if let total { self.total = total }
        }
    }

    /// Erases the bar so the caller's summary line starts clean.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }

    private func update(_ change: (inout Int) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        change(&completed)
        guard enabled, Date().timeIntervalSince(lastDraw) >= 0.1 || completed == total else { return }
        lastDraw = Date()
        let text = Self.line(label: label, completed: completed, total: total, unit: unit, seconds: lastDraw.timeIntervalSince(start))
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
        drawn = true
    }

    /// The text of the bar for a given state; separate so it can be tested without a terminal.
    public static func line(label: String, completed: Int, total: Int?, unit: Unit, seconds: Double, width: Int = 20) -> String {
        let rate = seconds > 0 ? Double(completed) / seconds : 0
        var parts = [label]
        if let total, total > 0 {
            let filled = min(width, completed * width / total)
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            parts.append("\(amount(completed, unit))/\(amount(total, unit))")
        } else {
            parts.append(amount(completed, unit))
        }
        switch unit {
        case .items(let name): parts.append("\(amount(Int(rate.rounded()), unit)) \(name)/s")
        case .bytes: parts.append("\(amount(Int(rate), unit))/s")
        }
        if let total, rate > 0, completed < total {
            parts.append("ETA " + clock(Double(total - completed) / rate))
        }
        return parts.joined(separator: "  ")
    }

    private static func amount(_ value: Int, _ unit: Unit) -> String {
        switch unit {
        case .items:
            return value.grouped
        case .bytes:
            let (scaled, suffix) = value >= 1_000_000_000 ? (Double(value) / 1e9, "GB")
                : value >= 1_000_000 ? (Double(value) / 1e6, "MB") : (Double(value) / 1e3, "kB")
            return String(format: "%.1f ", scaled) + suffix
        }
    }

    /// m:ss, or h:mm:ss past an hour.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
