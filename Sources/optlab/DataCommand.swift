import ArgumentParser
import Data
import Foundation
import Support

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Find, check or download the CIFAR-10 dataset.",
        discussion: """
            optlab looks for the cifar-10-batches-bin folder in this order: --data DIR, $OPTLAB_DATA, \
            ./data/cifar-10-batches-bin, ../shared/data/cifar-10-batches-bin.

            Examples:
              optlab data info
              optlab data info --data ~/datasets/cifar-10-batches-bin
              optlab data download            # into ./data (needs internet, 170 MB)
            """,
        subcommands: [Info.self, Download.self]
    )

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show where CIFAR-10 is found, check every file and count the images.",
            discussion: """
                Every file is checked: its exact size (30,730,000 bytes) and that every label is 0–9.

                Examples:
                  optlab data info
                  OPTLAB_DATA=/mnt/cifar-10-batches-bin optlab data info
                """
        )

        @Option(help: ArgumentHelp("The cifar-10-batches-bin folder (or its parent).", valueName: "dir"))
        var data: String?

        func run() throws {
            let location = try DataLocation.find(option: data)
            print("CIFAR-10: \(location.folder.path)  (found by \(location.source))")
            for split in CIFAR10.Split.allCases {
                let dataset = try CIFAR10.load(split, from: location.folder)
                let files = split == .train ? CIFAR10.trainFiles : CIFAR10.testFiles
                print("\(split.rawValue): \(dataset.count.grouped) images in \(files.joined(separator: ", "))")
                let perClass = zip(dataset.classNames, dataset.classCounts).map { "\($0) \($1.grouped)" }
                print("  per class: " + perClass.joined(separator: ", "))
            }
        }
    }

    struct Download: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the official CIFAR-10 binary archive, check its MD5 and unpack it.",
            discussion: """
                Fetches \(CIFAR10.archiveURL.absoluteString) (170 MB), checks its MD5 \
                (\(CIFAR10.archiveMD5)), unpacks cifar-10-batches-bin into the target folder and checks \
                every file. An archive already downloaded there with the right MD5 is reused.

                Examples:
                  optlab data download
                  optlab data download --to ~/datasets
                  optlab data download --url https://mirror.example/cifar-10-binary.tar.gz
                """
        )

        @Option(help: ArgumentHelp("The folder to unpack into.", valueName: "dir"))
        var to = "data"

        @Option(help: "Where to fetch the archive (a mirror); its MD5 must still match.")
        var url = CIFAR10.archiveURL.absoluteString

        @Flag(help: "Replace an existing cifar-10-batches-bin folder.")
        var force = false

        func run() throws {
            let destination = URL(fileURLWithPath: to).standardizedFileURL
            let folder = destination.appendingPathComponent(CIFAR10.folderName)
            if DataLocation.isDirectory(folder) && !force {
                print("\(folder.path) already exists; `optlab data info --data \(folder.path)` checks it, --force replaces it.")
                return
            }
            guard let source = URL(string: url) else { throw ValidationError("--url \(url) is not a URL") }
            let archive = destination.appendingPathComponent(source.lastPathComponent)
            if (try? CIFAR10Archive.fileMD5(archive)) == CIFAR10.archiveMD5 {
                print("Reusing \(archive.path) (MD5 matches).")
            } else {
                print("Downloading \(source.absoluteString)")
                let bar = ProgressBar("download", total: nil, unit: .bytes)
                try FileDownload.fetch(source, to: archive) { received, expected in
                    bar.set(completed: Int(received), total: expected.map(Int.init))
                }
                bar.finish()
            }
            print("Checking MD5 and unpacking into \(destination.path)")
            let installed = try CIFAR10Archive.install(archive, md5: CIFAR10.archiveMD5, into: destination, replace: force)
            for split in CIFAR10.Split.allCases {
                let dataset = try CIFAR10.load(split, from: installed)
                print("\(split.rawValue): \(dataset.count.grouped) images, every file checked")
            }
            print("CIFAR-10 is ready in \(installed.path)")
        }
    }
}
