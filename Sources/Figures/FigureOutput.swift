import Foundation
import Plot
import Support
import Surfaces

/// Where figures go and the checks made before long work starts, so a bad path fails at once.
public enum FigureOutput {
    /// `<folder>/<stem>.png`, creating the folder (default `plots`) when it is missing.
    public static func defaultPath(_ stem: String, folder: String = "plots") throws -> String {
        try OutputFolder.create(folder)
        return (folder as NSString).appendingPathComponent("\(stem).png")
    }

    /// A file-name stem for a surface: its name, or "formula" for a typed formula.
    public static func stem(_ surface: Surface) -> String {
        surface.isTypedFormula ? "formula" : surface.name
    }

    /// Throws the error saving would throw for a bad extension or a missing folder.
    public static func check(_ path: String) throws {
        _ = try ImageFormat(path: path)
        let folder = (path as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        guard folder.isEmpty || (FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) else {
            throw FileError("cannot write '\(path)': folder '\(folder)' does not exist")
        }
    }
}
