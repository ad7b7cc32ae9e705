import Foundation

/// Models by name. Built-ins are `tutorial`, `vgg-small`, `resnet18` and `airbench94`; other modules (the
/// CIFAR pipeline's own design) register theirs with `Models.register`.
public enum Models {
    public typealias Builder = @Sendable () -> Module

    nonisolated(unsafe) private static var builders: [String: Builder] = [
        "tutorial": tutorialNet, "vgg-small": vggSmall, "resnet18": resnet18, "airbench94": airbench94,
    ]
    private static let lock = NSLock()

    public static func register(_ name: String, _ builder: @escaping Builder) {
        lock.withLock { builders[name] = builder }
    }

    public static var names: [String] { lock.withLock { builders.keys.sorted() } }

    /// A freshly initialised network (PyTorch default initialisation from `seed`).
    public static func make(_ name: String, seed: UInt64 = 0) throws -> Network {
        guard let builder = lock.withLock({ builders[name] }) else {
            throw UnknownModelError(name: name, known: names)
        }
        return Network(builder(), name: name, seed: seed)
    }
}

/// A model name nothing registered.
public struct UnknownModelError: Error, CustomStringConvertible {
    public let name: String
    public let known: [String]
    public var description: String { "unknown model \(name) (known: \(known.joined(separator: ", ")))" }
}
