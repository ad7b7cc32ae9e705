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

    /// Frames a second and frames of an animation, and its default resolution (a GIF at 150 dpi
    /// would be four times the pixels, bytes and time for little gain on a screen).
    public static let defaultFPS = 20, animationDPI = 80.0

    /// Whether the path names an animation (.gif, .mp4) rather than an image.
    public static func isAnimation(_ path: String) -> Bool { AnimationFormat(path: path) != nil }

    /// Refuses, before any work, a figure of `inches` at `path` whose pixels are over the budget:
    /// a PNG's at `dpi`, an animation's `frames` frames at `dpi`; SVG and PDF are vector files.
    public static func checkPixels(_ path: String, inches: (width: Double, height: Double), dpi: Double, frames: Int? = nil) throws {
        if isAnimation(path) {
            try Figure.checkPixels(width: inches.width, height: inches.height, dpi: dpi, frames: frames ?? 1)
        } else if (try? ImageFormat(path: path)) == .png {
            try Figure.checkPixels(width: inches.width, height: inches.height, dpi: dpi)
        }
    }

    /// Throws the error saving would throw for a bad extension or a missing folder; `animations`
    /// also accepts .gif and .mp4.
    public static func check(_ path: String, animations: Bool = false) throws {
        if animations && AnimationFormat(path: path) == nil && (try? ImageFormat(path: path)) == nil {
            let ext = (path as NSString).pathExtension
            throw FileError("cannot write '\(path)': unknown format '\(ext.isEmpty ? "(none)" : "." + ext)' (use .png, .svg, .pdf, .gif or .mp4)")
        }
        if !animations || AnimationFormat(path: path) == nil { _ = try ImageFormat(path: path) }
        let folder = (path as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        guard folder.isEmpty || (FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) else {
            throw FileError("cannot write '\(path)': folder '\(folder)' does not exist")
        }
    }
}
