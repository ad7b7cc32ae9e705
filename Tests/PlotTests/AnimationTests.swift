import CFFmpeg
import CGif
import Foundation
import XCTest
@testable import Plot

/// Frames come from the same drawing code as still figures; the files decode to what was asked.
final class AnimationTests: XCTestCase {
    /// Contours under a line that grows step by step, its head a marker, a legend of labelled lines.
    private func race() -> (figure: Figure, line: LineHandle, head: MarkersHandle, xs: [Double], ys: [Double]) {
        let grid = ScalarGrid(x: -2...2, y: -2...2, columns: 61, rows: 61) { x, y in x * x + 3 * y * y }
        let levels = ContourLevels.logSpaced(minimum: 0, maximum: grid.finiteRange.upperBound, count: 10)
        let figure = Figure(width: 4, height: 3)
        figure.axes.contourFilled(ContourSet(grid, levels: levels))
        figure.colorBar = ColorBar(scale: .bands(levels: levels))
        let xs = (0...20).map { -1.8 + 3.6 * Double($0) / 20 }, ys = xs.map { 0.9 * $0 }
        let line = figure.axes.plot(x: xs, y: ys, style: LineStyle(color: Palette.color(forKey: "adam"), width: 3), label: "adam").animated()
        let head = figure.axes.scatter([(xs.last!, ys.last!)], marker: .circle, size: 9, color: Palette.color(forKey: "sgd")).animated()
        figure.axes.plot(x: [-1.8, 1.8], y: [1.5, 1.5], style: LineStyle(color: .black), label: "static")
        return (figure, line, head, xs, ys)
    }

    func testTheLastFrameIsTheStillFigureAndEarlierFramesShowThePathSoFar() throws {
        let (figure, line, head, xs, ys) = race()
        let still = figure.rasterize(dpi: 80)
        let animation = try Animation(figure, dpi: 80, fps: 10)
        XCTAssertEqual(animation.render().pixels, still.pixels, "the final frame is the still figure, pixel for pixel")

        let frame = figure.axes.frame, legend = figure.axes.resolvedLegend
        line.setData(x: Array(xs[...5]), y: Array(ys[...5]))
        head.setPoints([(xs[5], ys[5])])
        let early = animation.render()
        XCTAssertEqual(figure.axes.frame, frame, "the layout stays frozen")
        XCTAssertEqual(figure.axes.resolvedLegend, legend)
        let adam = Palette.color(forKey: "adam"), sgd = Palette.color(forKey: "sgd")
        XCTAssertEqual(early.color(at: figure.axes.point(x: xs[2], y: ys[2])), still.color(at: figure.axes.point(x: xs[2], y: ys[2])))
        XCTAssertLessThan(distance(early.color(at: figure.axes.point(x: xs[2], y: ys[2])), adam), 0.02)
        XCTAssertLessThan(distance(early.color(at: figure.axes.point(x: xs[5], y: ys[5])), sgd), 0.02, "the head marker moved")
        XCTAssertGreaterThan(distance(early.color(at: figure.axes.point(x: xs[15], y: ys[15])), adam), 0.2, "no path beyond the step")
    }

    func testGIFDecodesToTheFramesSizeAndDurationWithFlatFillsKept() throws {
        let (figure, line, head, xs, ys) = race()
        let path = try temporaryFolder().appendingPathComponent("race.gif").path
        let animation = try Animation(figure, dpi: 60, fps: 10)
        try animation.save(to: path, frames: xs.count, hold: 1) { k in
            line.setData(x: Array(xs[...k]), y: Array(ys[...k]))
            head.setPoints([(xs[k], ys[k])])
        }
        let reference = animation.render()  // the last frame, as update left it

        var error: Int32 = 0
        let gif = try XCTUnwrap(DGifOpenFileName(path, &error))
        defer { DGifCloseFile(gif, &error) }
        XCTAssertEqual(DGifSlurp(gif), GIF_OK)
        XCTAssertEqual(Int(gif.pointee.SWidth), reference.width)
        XCTAssertEqual(Int(gif.pointee.SHeight), reference.height)
        XCTAssertEqual(Int(gif.pointee.ImageCount), xs.count)
        var centiseconds = 0
        var canvas = [UInt8](repeating: 0, count: reference.width * reference.height)
        for k in 0..<Int(gif.pointee.ImageCount) {
            var control = GraphicsControlBlock()
            XCTAssertEqual(DGifSavedExtensionToGCB(gif, Int32(k), &control), GIF_OK)
            centiseconds += Int(control.DelayTime)
            let image = gif.pointee.SavedImages[k], box = image.ImageDesc
            for y in 0..<Int(box.Height) {
                for x in 0..<Int(box.Width) {
                    let index = image.RasterBits[y * Int(box.Width) + x]
                    if Int32(index) != control.TransparentColor { canvas[(Int(box.Top) + y) * reference.width + Int(box.Left) + x] = index }
                }
            }
        }
        XCTAssertEqual(centiseconds, 20 * 10 + 100, "20 frames at 10 fps, then a one-second hold")
        // The composed last frame: every pixel of a flat contour band exactly its colour, and
        // anti-aliased pixels close to theirs.
        let colors = gif.pointee.SColorMap.pointee.Colors!
        var worst = 0.0
        for (k, index) in canvas.enumerated() {
            let c = colors[Int(index)]
            let decoded = Color(red: Double(c.Red) / 255, green: Double(c.Green) / 255, blue: Double(c.Blue) / 255)
            worst = max(worst, distance(decoded, reference.color(x: k % reference.width, y: k / reference.width)))
        }
        let band = figure.axes.point(x: 1.9, y: -1.9)
        let bandPixel = (Int(band.y * reference.scale)) * reference.width + Int(band.x * reference.scale)
        let c = colors[Int(canvas[bandPixel])]
        XCTAssertEqual(UInt32(c.Red) << 16 | UInt32(c.Green) << 8 | UInt32(c.Blue), reference.pixels[bandPixel] & 0xFF_FFFF)
        XCTAssertLessThan(worst, 0.25, "no pixel far from its colour")
    }

    func testMP4IsH264Yuv420pWithEveryFrameAndTheHold() throws {
        let (figure, line, _, xs, ys) = race()
        let path = try temporaryFolder().appendingPathComponent("race.mp4").path
        try Animation(figure, dpi: 61, fps: 10).save(to: path, frames: xs.count, hold: 1) { k in
            line.setData(x: Array(xs[...k]), y: Array(ys[...k]))
        }
        var format: UnsafeMutablePointer<AVFormatContext>?
        XCTAssertEqual(avformat_open_input(&format, path, nil, nil), 0)
        defer { avformat_close_input(&format) }
        XCTAssertGreaterThanOrEqual(avformat_find_stream_info(format, nil), 0)
        let stream = try XCTUnwrap(format?.pointee.streams[0])
        let parameters = stream.pointee.codecpar.pointee
        XCTAssertEqual(parameters.codec_id, AV_CODEC_ID_H264)
        XCTAssertEqual(parameters.format, AV_PIX_FMT_YUV420P.rawValue)
        let (w, h) = figure.pixelSize(dpi: 61)
        XCTAssertEqual(Int(parameters.width), w & ~1, "an odd side loses its last pixel")
        XCTAssertEqual(Int(parameters.height), h & ~1)
        XCTAssertEqual(stream.pointee.nb_frames, Int64(xs.count - 1 + 10), "the hold is the last frame repeated")
        let seconds = Double(stream.pointee.duration) * av_q2d(stream.pointee.time_base)
        XCTAssertEqual(seconds, 3.0, accuracy: 0.05)
    }

    func testBadRequestsAreOneLineErrorsAndLeaveNoFile() throws {
        let (figure, _, _, _, _) = race()
        let folder = try temporaryFolder()
        XCTAssertThrowsError(try Animation(figure, dpi: 80, fps: 0)) { XCTAssertTrue("\($0)".contains("--fps must be in 1...50")) }
        let animation = try Animation(figure, dpi: 40, fps: 10)
        XCTAssertThrowsError(try animation.save(to: folder.appendingPathComponent("a.png").path, frames: 3) { _ in }) {
            XCTAssertTrue("\($0)".contains("use .gif or .mp4"))
        }
        XCTAssertThrowsError(try Animation(figure, dpi: 600, fps: 10).save(to: folder.appendingPathComponent("big.gif").path, frames: 500) { _ in }) {
            XCTAssertTrue("\($0)".contains("gigapixels to draw; the limit is 2 gigapixels (about ten minutes): lower --dpi or --frames"), "\($0)")
        }
        struct Stop: Error {}
        XCTAssertThrowsError(try animation.save(to: folder.appendingPathComponent("a.gif").path, frames: 5, progress: { k in if k == 2 { throw Stop() } }) { _ in })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [], "an interrupted animation leaves nothing")
    }

    private func distance(_ a: Color, _ b: Color) -> Double {
        max(abs(a.red - b.red), abs(a.green - b.green), abs(a.blue - b.blue))
    }
}
