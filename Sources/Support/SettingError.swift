import Foundation

/// A setting of a run has a value it cannot take. `setting` is the library's name for it, the same
/// word an experiment file uses as its key and the command line as its option (`points`,
/// `--points`), so each layer can say it in its user's terms without checking it again.
public struct SettingError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let setting: String
    /// What is wrong, to follow the setting's name: "must be ≥ 2, got 1".
    public let problem: String

    public init(_ setting: String, _ problem: String) {
        self.setting = setting
        self.problem = problem
    }

    public var description: String { "\(setting) \(problem)" }
    public var errorDescription: String? { description }
}
