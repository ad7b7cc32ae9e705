import Foundation

/// The one way optlab writes a file (figures, CSV, safetensors, checkpoints): all or nothing, and
/// durable. The bytes go to a temporary file in the same folder, which is flushed to the disk
/// (`fsync`) and then renamed over the destination; the folder is flushed after the rename so the
/// new name survives a power cut too. Readers never see a half-written file, a failed write leaves
/// none behind, and once `write` returns the file is on the disk.
public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    public static func write(_ data: Data, to path: String) throws {
        // Written here rather than by FileManager.createFile, which writes a file of its own
        // (`.dat.nosync…`) and renames it: a writer killed meanwhile would leave that behind, under a
        // name `removeLeftovers` cannot know.
        try write(to: path) { temporary in
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw FileError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
            defer { close(descriptor) }
            try data.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { throw FileError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
                    offset += written
                }
            }
        }
    }

    /// For writers that need a path of their own (Cairo's SVG and PDF surfaces): `produce` writes
    /// the whole file at the temporary path it is given; it then becomes `path` as above.
    public static func write(to path: String, by produce: (_ temporaryPath: String) throws -> Void) throws {
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw FileError("cannot write '\(path)': folder '\(folder)' does not exist")
        }
        guard access(folder, W_OK) == 0 else { throw FileError("cannot write '\(path)': folder '\(folder)' is not writable") }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw FileError("cannot write '\(path)': it is a folder")
        }
        removeLeftovers(of: path)
        let temporary = (folder as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).\(getpid()).tmp")
        do {
            try produce(temporary)
            try sync(temporary, path: path)
            guard rename(temporary, path) == 0 else { throw FileError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
        } catch {
            unlink(temporary)
            throw error
        }
        try sync(folder, path: path)
    }

    /// Removes the temporary files (`.<name>.<pid>.tmp`) that writers of `path` killed mid-write left
    /// behind, so folders do not fill with them; a live process's are its own business.
    public static func removeLeftovers(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let prefix = ".\((path as NSString).lastPathComponent).", suffix = ".tmp"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
            guard let pid = pid_t(name.dropFirst(prefix.count).dropLast(suffix.count)), pid != getpid() else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH { unlink((folder as NSString).appendingPathComponent(name)) }
        }
    }

    /// Flushes a file's or a folder's contents to the disk.
    private static func sync(_ file: String, path: String) throws {
        let descriptor = open(file, O_RDONLY)
        guard descriptor >= 0 else { throw FileError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw FileError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
    }
}

/// A file could not be read or written; one line naming the file and the reason.
public struct FileError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
