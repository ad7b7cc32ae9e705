import FuzzDriver
import Foundation
@testable import Data

/// The download's gzip + tar reader: a damaged or hostile archive is an error, never a trap, an
/// unbounded allocation or a path outside the staging folder.
@main enum FuzzArchive {
    static func main() {
        runFuzzer { input in
            let input = input
            // The input is a tar file as well as a gzip stream, so the tar reader sees the mutations directly.
            for tar in [input, try? CIFAR10Archive.gunzip(input)].compactMap({ $0 }) {
                guard let entries = try? TarEntry.parse(tar) else { continue }
                for entry in entries {
                    precondition(!entry.path.hasPrefix("/") && !entry.path.split(separator: "/").contains(".."), "unsafe path \(entry.path) accepted")
                }
            }
        }
    }
}
