import Foundation
import Support

/// CIFAR-10 in its binary layout: each `.bin` file holds 10,000 records of 1 label byte and
/// 3,072 pixel bytes (the red 32×32 plane, then green, then blue, each row-major).
public enum CIFAR10 {
    public static let folderName = "cifar-10-batches-bin"
    public static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
    public static let testFiles = ["test_batch.bin"]
    public static let metaFile = "batches.meta.txt"
    public static let channels = 3, height = 32, width = 32
    public static let imageBytes = channels * height * width
    public static let recordBytes = 1 + imageBytes
    public static let recordsPerFile = 10_000
    public static let fileBytes = recordBytes * recordsPerFile  // 30,730,000
    public static let classCount = 10

    /// Where `optlab data download` fetches the archive from, and its published MD5.
    public static let archiveURL = URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")!
    public static let archiveMD5 = "c32a1d4ab5d03f1284b67883e8d87530"

    /// Reads and validates one split from `folder`.
    public static func load(_ split: Split, from folder: URL) throws -> Dataset {
        let files = split == .train ? trainFiles : testFiles
        var images = [UInt8](), labels = [UInt8]()
        images.reserveCapacity(files.count * recordsPerFile * imageBytes)
        labels.reserveCapacity(files.count * recordsPerFile)
        for name in files {
            let records = try readBatchFile(folder.appendingPathComponent(name))
            records.withUnsafeBytes { raw in
                for r in 0..<recordsPerFile {
                    let record = raw[(r * recordBytes)..<((r + 1) * recordBytes)]
                    labels.append(record.first!)
                    images.append(contentsOf: record.dropFirst())
                }
            }
        }
        return Dataset(split: split, images: images, labels: labels, classNames: try classNames(in: folder))
    }

    /// The ten class names, label i on line i+1 of `batches.meta.txt`.
    public static func classNames(in folder: URL) throws -> [String] {
        let url = folder.appendingPathComponent(metaFile)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw DataError.file(url.path, "missing or unreadable (it lists the ten class names)")
        }
        return try classNames(parsing: text, source: url.path)
    }

    /// The class names in the text of `batches.meta.txt`, one per non-empty line.
    static func classNames(parsing text: String, source: String) throws -> [String] {
        let names = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard names.count == classCount else {
            throw DataError.file(source, "lists \(names.count) class names, expected \(classCount)")
        }
        return names
    }

    /// The whole file after checking its size (before reading it) and every label.
    static func readBatchFile(_ url: URL) throws -> Foundation.Data {
        let size: Int
        do {
            size = try (FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? -1
        } catch {
            throw DataError.file(url.path, "missing")
        }
        guard size == fileBytes else {
            throw DataError.file(url.path, "is \(size.grouped) bytes, expected \(fileBytes.grouped) "
                + "(\(recordsPerFile.grouped) records of \(recordBytes.grouped) bytes); truncated or not CIFAR-10 binary")
        }
        let data: Foundation.Data
        do { data = try Foundation.Data(contentsOf: url) } catch {
            throw DataError.file(url.path, "unreadable: \(error.localizedDescription)")
        }
        guard data.count == fileBytes else {
            throw DataError.file(url.path, "changed size while being read")
        }
        try checkLabels(data, source: url.path)
        return data
    }

    /// Every whole record's label byte is a class (0–9).
    static func checkLabels(_ records: Foundation.Data, source: String) throws {
        try records.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for r in 0..<(raw.count / recordBytes) where raw[r * recordBytes] >= classCount {
                throw DataError.file(source, "record \(r) has label \(raw[r * recordBytes]); labels must be 0–9")
            }
        }
    }

    public enum Split: String, Sendable, CaseIterable {
        case train, test
    }
}

/// One split in memory: images as bytes (N × 3 × 32 × 32, CHW per image) and labels 0–9.
public struct Dataset: Sendable {
    public let split: CIFAR10.Split
    public let images: [UInt8]
    public let labels: [UInt8]
    public let classNames: [String]

    public init(split: CIFAR10.Split, images: [UInt8], labels: [UInt8], classNames: [String]) {
        precondition(images.count == labels.count * CIFAR10.imageBytes, "images and labels disagree")
        self.split = split
        self.images = images
        self.labels = labels
        self.classNames = classNames
    }

    public var count: Int { labels.count }

    /// The first `n` images (all of them when `n` is nil or larger), for quick runs on a subset.
    public func prefix(_ n: Int?) -> Dataset {
        guard let n, n < count else { return self }
        return Dataset(split: split, images: Array(images[..<(n * CIFAR10.imageBytes)]),
                       labels: Array(labels[..<n]), classNames: classNames)
    }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        var pixels = [UInt8]()
        pixels.reserveCapacity(indices.count * CIFAR10.imageBytes)
        for i in indices { pixels += images[(i * CIFAR10.imageBytes)..<((i + 1) * CIFAR10.imageBytes)] }
        return Dataset(split: split, images: pixels, labels: indices.map { labels[$0] }, classNames: classNames)
    }

    /// How many images of each class.
    public var classCounts: [Int] {
        labels.reduce(into: [Int](repeating: 0, count: CIFAR10.classCount)) { $0[Int($1)] += 1 }
    }

    /// Per-channel mean and standard deviation of the pixels in [0, 1] units (what torchvision
    /// recipes hard-code as 0.4914, 0.4822, 0.4465 / 0.2470, 0.2435, 0.2616 for the train split).
    public func channelStatistics() -> (mean: [Float], std: [Float]) {
        let plane = CIFAR10.height * CIFAR10.width
        var sums = [UInt64](repeating: 0, count: CIFAR10.channels)
        var squares = [UInt64](repeating: 0, count: CIFAR10.channels)
        images.withUnsafeBufferPointer { pixels in
            for image in 0..<count {
                for c in 0..<CIFAR10.channels {
                    var s: UInt64 = 0, q: UInt64 = 0
                    let base = image * CIFAR10.imageBytes + c * plane
                    for i in base..<(base + plane) {
                        let v = UInt64(pixels[i])
                        s += v
                        q += v * v
                    }
                    sums[c] += s
                    squares[c] += q
                }
            }
        }
        let n = Double(count * plane)
        let mean = sums.map { Double($0) / n / 255 }
        let std = zip(squares, mean).map { (Double($0) / n / (255 * 255) - $1 * $1).squareRoot() }
        return (mean.map(Float.init), std.map(Float.init))
    }
}

public enum DataError: Error, CustomStringConvertible, Equatable {
    /// A file that is missing, malformed or the wrong size: its path and what is wrong.
    case file(String, String)
    /// No CIFAR-10 folder anywhere optlab looks; the message lists every place it looked.
    case notFound([String])
    case download(String)
    case archive(String)
    case split(String)

    public var description: String {
        switch self {
        case .file(let path, let problem):
            return "\(path): \(problem)"
        case .notFound(let places):
            return (["CIFAR-10 not found. optlab looked in:"] + places.map { "  - \($0)" } + [
                "Get it with `optlab data download` (fetches \(CIFAR10.archiveURL.absoluteString), 170 MB, into ./data),",
                "or copy an unpacked \(CIFAR10.folderName) folder to ./data/ (or point --data DIR or $OPTLAB_DATA at it).",
            ]).joined(separator: "\n")
        case .download(let message), .archive(let message), .split(let message):
            return message
        }
    }
}
