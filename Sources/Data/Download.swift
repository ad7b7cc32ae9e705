import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches a URL to a file, reporting progress; the file appears (by rename) only when complete.
public enum FileDownload {
    /// `progress(received, expected)` is called from a background thread as bytes arrive;
    /// `expected` is nil when the server does not say. A `file://` URL (a local mirror) is copied.
    public static func fetch(_ url: URL, to file: URL,
                             progress: @escaping @Sendable (Int64, Int64?) -> Void = { _, _ in }) throws {
        if url.isFileURL {
            let partial = file.appendingPathExtension("part")
            do {
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try? FileManager.default.removeItem(at: partial)
                try FileManager.default.copyItem(at: url, to: partial)
                try rename(partial, to: file)
            } catch {
                try? FileManager.default.removeItem(at: partial)
                throw DataError.download("could not copy \(url.path): \(error.localizedDescription)")
            }
            return
        }
        let fetcher = Fetcher(target: file, progress: progress)
        let session = URLSession(configuration: .default, delegate: fetcher, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        session.downloadTask(with: url).resume()
        fetcher.done.wait()
        if let failure = fetcher.failure {
            throw DataError.download("could not download \(url.absoluteString): \(failure)")
        }
    }

    /// POSIX rename: atomically replaces `target`, so readers see the old file or the whole new one.
    static func rename(_ source: URL, to target: URL) throws {
        guard Foundation.rename(source.path, target.path) == 0 else {
            throw DataError.download("could not rename \(source.path) to \(target.path): \(String(cString: strerror(errno)))")
        }
    }

    private final class Fetcher: NSObject, URLSessionDownloadDelegate, @unchecked Sendable {
        // `failure` is written by the session's queue before `done` is signalled, read after.
        let target: URL
        let progress: @Sendable (Int64, Int64?) -> Void
        let done = DispatchSemaphore(value: 0)
        var failure: String?

        init(target: URL, progress: @escaping @Sendable (Int64, Int64?) -> Void) {
            self.target = target
            self.progress = progress
        }

        func urlSession(_ session: URLSession, downloadTask: URLSessionDownloadTask, didWriteData bytesWritten: Int64,
                        totalBytesWritten: Int64, totalBytesExpectedToWrite: Int64) {
            progress(totalBytesWritten, totalBytesExpectedToWrite > 0 ? totalBytesExpectedToWrite : nil)
        }

        func urlSession(_ session: URLSession, downloadTask: URLSessionDownloadTask, didFinishDownloadingTo location: URL) {
            if let http = downloadTask.response as? HTTPURLResponse, http.statusCode != 200 {
                failure = "the server answered HTTP \(http.statusCode)"
                return
            }
            // The temporary file vanishes when this call returns: move it beside the target, then rename.
            let partial = target.appendingPathExtension("part")
            do {
                try? FileManager.default.removeItem(at: partial)
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.moveItem(at: location, to: partial)
                try FileDownload.rename(partial, to: target)
            } catch {
                failure = "could not save \(target.path): \(error.localizedDescription)"
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            if let error { failure = failure ?? error.localizedDescription }
            done.signal()
        }
    }
}
