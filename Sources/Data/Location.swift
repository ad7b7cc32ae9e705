import Foundation

/// Where the CIFAR-10 folder is, and which rule found it.
public struct DataLocation: Sendable {
    public let folder: URL
    /// How it was chosen, e.g. "--data", "$OPTLAB_DATA" or "default ./data/cifar-10-batches-bin".
    public let source: String

    public static let environmentVariable = "OPTLAB_DATA"
    public static let defaultFolders = ["./data/" + CIFAR10.folderName, "../shared/data/" + CIFAR10.folderName]

    /// Looks for the folder in this order: `--data DIR`, `$OPTLAB_DATA`, `./data/cifar-10-batches-bin`,
    /// `../shared/data/cifar-10-batches-bin`. A folder named explicitly (option or variable) is
    /// binding: if it does not exist that is the error, rather than silently using another copy.
    /// An explicit folder may also be the parent of `cifar-10-batches-bin` (e.g. `--data ./data`).
    public static func find(
        option: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    ) throws -> DataLocation {
        func resolve(_ path: String) -> URL {
            let expanded = (path as NSString).expandingTildeInPath
            let absolute = expanded.hasPrefix("/") ? expanded : currentDirectory.path + "/" + expanded
            return URL(fileURLWithPath: (absolute as NSString).standardizingPath, isDirectory: true)
        }
        func explicit(_ path: String, _ source: String) throws -> DataLocation {
            let folder = resolve(path)
            let nested = folder.appendingPathComponent(CIFAR10.folderName)
            if !contains(folder, CIFAR10.metaFile) && isDirectory(nested) {
                return DataLocation(folder: nested, source: source)
            }
            guard isDirectory(folder) else {
                throw DataError.notFound(["\(source) \(path) (\(folder.path)): no such folder"])
            }
            return DataLocation(folder: folder, source: source)
        }
        if let option { return try explicit(option, "--data") }
        if let path = environment[environmentVariable], !path.isEmpty {
            return try explicit(path, "$\(environmentVariable)")
        }
        var looked = ["--data: not given", "$\(environmentVariable): not set"]
        for path in defaultFolders {
            let folder = resolve(path)
            if isDirectory(folder) { return DataLocation(folder: folder, source: "default \(path)") }
            looked.append("\(path) (\(folder.path)): no such folder")
        }
        throw DataError.notFound(looked)
    }

    public static func isDirectory(_ url: URL) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
    }

    static func contains(_ folder: URL, _ name: String) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path)
    }
}
