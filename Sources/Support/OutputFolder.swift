import Foundation

/// The one way optlab makes the folders its outputs go to (plots/, checkpoints/), which may not
/// exist yet.
public enum OutputFolder {
    /// Creates `folder` and its parents when missing.
    public static func create(_ folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw FileError("cannot create folder '\(folder)': \((error as NSError).localizedDescription)")
        }
    }

    /// Creates the folder a file is to be written in (nothing for a bare file name).
    public static func createParent(of path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try create(folder) }
    }
}
