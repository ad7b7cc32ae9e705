import CGif
import Foundation

/// Writes a looping GIF89a through giflib. One global palette is made from sample frames of the
/// figure (`Quantizer`); each frame stores only the rectangle that changed since the previous one,
/// with unchanged pixels in it transparent, so a race over still contours costs little per frame.
final class GIFWriter: AnimationWriter {
    private var gif: UnsafeMutablePointer<GifFileType>?
    private let file: String
    private var quantizer: Quantizer
    private let fps: Int
    /// Frame periods written so far (delays are rounded on the running total so they never drift).
    private var elapsed = 0
    private var previous: [UInt32]?
    private static let transparent = UInt8(255)

    init(file: String, width: Int, height: Int, fps: Int, samples: [Raster]) throws {
        guard width <= 65535, height <= 65535 else { throw PlotError("cannot write '\(file)': GIF frames are at most 65535 pixels a side") }
        self.file = file
        self.fps = fps
        quantizer = Quantizer(samples: samples, maxColors: Int(Self.transparent))
        // giflib would create the file readable by its owner only; open it as any other image is.
        let descriptor = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        guard descriptor >= 0 else { throw PlotError("cannot write '\(file)': \(String(cString: strerror(errno)))") }
        var error: Int32 = 0
        gif = EGifOpenFileHandle(descriptor, &error)
        guard let gif else { close(descriptor); throw failure(error) }
        EGifSetGifVersion(gif, true)
        var colors = (0..<256).map { k -> GifColorType in
            let c = k < quantizer.colors.count ? quantizer.colors[k] : 0
            return GifColorType(Red: UInt8(c >> 16 & 0xFF), Green: UInt8(c >> 8 & 0xFF), Blue: UInt8(c & 0xFF))
        }
        let map = GifMakeMapObject(256, &colors)
        defer { GifFreeMapObject(map) }
        try check(EGifPutScreenDesc(gif, Int32(width), Int32(height), 8, 0, map))
        // NETSCAPE2.0: loop forever.
        try check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE))
        var application = Array("NETSCAPE2.0".utf8)
        try check(EGifPutExtensionBlock(gif, 11, &application))
        var loop: [UInt8] = [1, 0, 0]
        try check(EGifPutExtensionBlock(gif, 3, &loop))
        try check(EGifPutExtensionTrailer(gif))
    }

    deinit { closeFile() }

    func add(_ frame: Raster, duration: Int) throws {
        guard let gif else { throw PlotError("cannot write '\(file)': the GIF is already finished") }
        let delay = centiseconds(elapsed + duration) - centiseconds(elapsed)
        elapsed += duration
        var control = GraphicsControlBlock(DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false, DelayTime: Int32(delay),
                                           TransparentColor: Int32(Self.transparent))
        var extensionBytes = [UInt8](repeating: 0, count: 4)
        EGifGCBToExtension(&control, &extensionBytes)
        try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, &extensionBytes))

        // A frame equal to the previous one still needs an image: one transparent pixel.
        let box = changedBox(frame) ?? (x: 0, y: 0, width: 1, height: 1)
        try check(EGifPutImageDesc(gif, Int32(box.x), Int32(box.y), Int32(box.width), Int32(box.height), false, nil))
        var line = [UInt8](repeating: Self.transparent, count: box.width)
        for y in box.y..<(box.y + box.height) {
            for x in 0..<box.width {
                let i = y * frame.width + box.x + x, pixel = frame.pixels[i]
                line[x] = previous.map({ $0[i] == pixel }) == true ? Self.transparent : quantizer.index(pixel)
            }
            try check(EGifPutLine(gif, &line, Int32(box.width)))
        }
        previous = frame.pixels
    }

    func finish() throws {
        guard gif != nil else { return }
        var error: Int32 = 0
        let status = EGifCloseFile(gif, &error)
        gif = nil
        guard status == GIF_OK else { throw failure(error) }
    }

    private func closeFile() {
        guard let gif else { return }
        var error: Int32 = 0
        EGifCloseFile(gif, &error)
        self.gif = nil
    }

    private func centiseconds(_ periods: Int) -> Int { Int((Double(periods) * 100 / Double(fps)).rounded()) }

    /// The smallest rectangle holding every pixel that differs from the previous frame (the
    /// whole frame for the first); nil when nothing changed.
    private func changedBox(_ frame: Raster) -> (x: Int, y: Int, width: Int, height: Int)? {
        guard let previous else { return (0, 0, frame.width, frame.height) }
        var minX = frame.width, minY = frame.height, maxX = -1, maxY = -1
        for y in 0..<frame.height {
            let row = y * frame.width
            for x in 0..<frame.width where previous[row + x] != frame.pixels[row + x] {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = y
            }
        }
        return maxX < 0 ? nil : (minX, minY, maxX - minX + 1, maxY - minY + 1)
    }

    private func check(_ status: Int32) throws {
        guard status == GIF_OK else { throw failure(gif?.pointee.Error ?? 0) }
    }

    private func failure(_ code: Int32) -> PlotError {
        PlotError("cannot write '\(file)': \(GifErrorString(code).map { String(cString: $0) } ?? "giflib error \(code)")")
    }
}

/// A palette made for one figure: its most frequent colours (the contour bands, the white page,
/// text, the optimizers' colours), skipping near-copies so anti-aliased edges do not crowd out
/// a colour of its own; every pixel then maps to its nearest entry, without dithering, so flat
/// fills stay flat.
struct Quantizer {
    /// 0xRRGGBB.
    private(set) var colors: [UInt32]
    private var nearest: [UInt32: UInt8] = [:]

    init(samples: [Raster], maxColors: Int) {
        var counts: [UInt32: Int] = [:]
        for sample in samples { for pixel in sample.pixels { counts[pixel & 0xFF_FFFF, default: 0] += 1 } }
        let byFrequency = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        var chosen: [UInt32] = []
        var skipped: [UInt32] = []
        for color in byFrequency where chosen.count < maxColors {
            if chosen.contains(where: { Self.distance($0, color) < 48 }) { skipped.append(color) } else { chosen.append(color) }
        }
        // Room left over goes to the most frequent near-copies.
        chosen += skipped.prefix(maxColors - chosen.count)
        colors = chosen.isEmpty ? [0xFF_FFFF] : chosen
    }

    /// Weighted squared RGB distance (green counts most, as the eye sees it).
    static func distance(_ a: UInt32, _ b: UInt32) -> Int {
        let dr = Int(a >> 16 & 0xFF) - Int(b >> 16 & 0xFF), dg = Int(a >> 8 & 0xFF) - Int(b >> 8 & 0xFF), db = Int(a & 0xFF) - Int(b & 0xFF)
        return 2 * dr * dr + 4 * dg * dg + 3 * db * db
    }

    mutating func index(_ pixel: UInt32) -> UInt8 {
        let color = pixel & 0xFF_FFFF
        if let k = nearest[color] { return k }
        var best = 0, bestDistance = Int.max
        for (k, c) in colors.enumerated() {
            let d = Self.distance(c, color)
            if d < bestDistance { best = k; bestDistance = d }
        }
        nearest[color] = UInt8(best)
        return UInt8(best)
    }
}
