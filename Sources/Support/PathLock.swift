import Foundation

/// An advisory lock on an output path, held while a run writes it, so a second optlab process
/// given the same path fails at once instead of clobbering the first one's file. It is a
/// `flock` on `.<name>.lock` beside the path (the path itself is replaced by rename, so it cannot
/// carry the lock); the kernel drops it when the process dies, so a killed run blocks nobody.
/// Taking it also clears the temporary files killed writers left for that path. Every command
/// that writes files takes the locks of all its outputs with `PathLock.outputs` before its work
/// starts.
public final class PathLock {
    private let descriptor: Int32
    private let lockPath: String

    public init(_ path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = (path as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        guard folder.isEmpty || (FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) else {
            throw FileError("cannot write '\(path)': folder '\(folder)' does not exist")
        }
        lockPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).lock").path
        while true {
            // Read-only: flock needs no more, and a descriptor open for writing would keep the
            // file system from being remounted read-only under a running job.
            let descriptor = open(lockPath, O_RDONLY | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw FileError("cannot lock '\(path)': \(String(cString: strerror(errno)))") }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                close(descriptor)
                let holder = Self.holder(of: lockPath).map { " (pid \($0))" } ?? ""
                throw FileError("'\(path)' is in use by another optlab process\(holder); wait for it or choose another path")
            }
            // A holder that was releasing may have unlinked the file we opened; lock the one on disk.
            var opened = stat(), onDisk = stat()
            if fstat(descriptor, &opened) == 0, stat(lockPath, &onDisk) == 0, opened.st_ino == onDisk.st_ino, opened.st_dev == onDisk.st_dev {
                self.descriptor = descriptor
                break
            }
            close(descriptor)
        }
        // The holder's pid, for the message a second process gives.
        try? "\(getpid())\n".write(toFile: lockPath, atomically: false, encoding: .utf8)
        AtomicFile.removeLeftovers(of: path)
    }

    deinit {
        unlink(lockPath)
        close(descriptor)
    }

    /// Locks every output of a command (nil entries are outputs not asked for) before its work
    /// starts, so a clash costs nothing; the locks last as long as the array. One path named for
    /// two outputs is refused too, since the second would overwrite the first.
    public static func outputs(_ paths: [String?]) throws -> [PathLock] {
        var seen = Set<String>()
        return try paths.compactMap { $0 }.map { path in
            guard seen.insert(URL(fileURLWithPath: path).standardizedFileURL.path).inserted else {
                throw FileError("'\(path)' is named for two outputs: give each its own path")
            }
            return try PathLock(path)
        }
    }

    /// The pid the holder wrote into its lock file; it writes it just after taking the lock, so a
    /// moment's wait covers a holder that has only just started.
    private static func holder(of lockPath: String) -> String? {
        for _ in 0..<100 {
            if let pid = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines), !pid.isEmpty {
                return pid
            }
            usleep(1_000)
        }
        return nil
    }
}
