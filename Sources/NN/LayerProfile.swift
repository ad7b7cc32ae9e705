import Foundation

/// Wall time per convolution and linear layer, for `optlab bench --explain`: while on, each
/// forward and backward of those layers adds its time and its multiply-adds (a direct
/// convolution's count, whatever the algorithm) under the layer's path. Only the calling thread's
/// layers are timed; in a split batch that is replica 0, whose slice runs beside the others.
public enum LayerProfile {
    public struct Entry: Sendable {
        public let path: String
        public let algorithm: String
        public internal(set) var multiplyAdds = 0.0
        public internal(set) var seconds = 0.0
        public var gigaflopsPerSecond: Double { 2 * multiplyAdds / seconds / 1e9 }
    }

    nonisolated(unsafe) private static var entries: [Entry]?

    /// Starts timing from zero.
    public static func start() { entries = [] }

    /// Stops timing; the layers in the order they first ran.
    public static func stop() -> [Entry] {
        defer { entries = nil }
        return entries ?? []
    }

    /// Runs `body`, adding its time to `module`'s entry when timing is on.
    static func measure<R>(_ module: Module, _ algorithm: @autoclosure () -> String, multiplyAdds: @autoclosure () -> Int,
                           _ body: () throws -> R) rethrows -> R {
        guard entries != nil, !ExecutionContext.inReplica || ExecutionContext.current === ExecutionContext.first else {
            return try body()
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        let index = entries!.firstIndex { $0.path == module.path } ?? {
            entries!.append(Entry(path: module.path, algorithm: algorithm()))
            return entries!.count - 1
        }()
        entries![index].seconds += seconds
        entries![index].multiplyAdds += Double(multiplyAdds())
        return result
    }
}
