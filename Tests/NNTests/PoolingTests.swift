import CDNNL
import XCTest
@testable import NN

/// The pooling loops against naive loops on plain [N, C, H, W] arrays, in plain and channel-blocked
/// layouts, and against values PyTorch printed for ties, NaNs and padding.
final class PoolingTests: XCTestCase {
    /// PyTorch's pooling written out: a window's first maximum in row-major order wins, a NaN wins
    /// (`val > maxval || isnan(val)`), padded positions never win and count as zeros in an average.
    struct Reference {
        let max: Bool, kh: Int, kw: Int, stride: Int, padding: Int

        func outputShape(_ s: [Int]) -> [Int] {
            [s[0], s[1], (s[2] + 2 * padding - kh) / stride + 1, (s[3] + 2 * padding - kw) / stride + 1]
        }

        /// Output and input gradient for output gradient `dy`.
        func run(_ x: [Float], _ s: [Int], _ dy: [Float]) -> (y: [Float], dx: [Float]) {
            let o = outputShape(s)
            var y = [Float](repeating: 0, count: o.reduce(1, *)), dx = [Float](repeating: 0, count: x.count)
            for n in 0..<s[0] {
                for c in 0..<s[1] {
                    let plane = (n * s[1] + c) * s[2] * s[3]
                    for oh in 0..<o[2] {
                        for ow in 0..<o[3] {
                            let out = ((n * o[1] + c) * o[2] + oh) * o[3] + ow
                            var window: [Int] = []
                            for ih in (oh * stride - padding)..<(oh * stride - padding + kh) where ih >= 0 && ih < s[2] {
                                for iw in (ow * stride - padding)..<(ow * stride - padding + kw) where iw >= 0 && iw < s[3] {
                                    window.append(plane + ih * s[3] + iw)
                                }
                            }
                            if max {
                                var best = -Float.infinity, at = window[0]
                                for i in window where x[i] > best || x[i].isNaN { (best, at) = (x[i], i) }
                                y[out] = best
                                dx[at] += dy[out]
                            } else {
                                y[out] = window.reduce(0) { $0 + x[$1] } / Float(kh * kw)
                                for i in window { dx[i] += dy[out] / Float(kh * kw) }
                            }
                        }
                    }
                }
            }
            return (y, dx)
        }
    }

    /// A memory in layout `tag` holding `values` given in plain NCHW order.
    func memory(_ values: [Float], _ shape: [Int], _ tag: dnnl_format_tag_t) -> Memory {
        let plain = Memory(plainDesc(shape))
        _ = plain.floats.update(fromContentsOf: values)
        let (m, reorder) = conform(plain, to: desc(shape, tag))
        if let reorder { NN.run([reorder]) }
        return m
    }

    func plainValues(_ m: Memory) -> [Float] {
        let (plain, reorder) = conform(m, to: plainDesc(m.shape))
        if let reorder { NN.run([reorder]) }
        return Array(plain.floats.prefix(m.shape.reduce(1, *)))
    }

    func assertSame(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        if let i = a.indices.first(where: { a[$0] != b[$0] && !(a[$0].isNaN && b[$0].isNaN) }) {
            XCTFail("\(what): element \(i) is \(a[i]), expected \(b[i])", file: file, line: line)
        }
    }

    /// Forward (training and inference), output layout and backward of `pool` on `x` in layout `tag`,
    /// against `reference`; the output gradient arrives in another layout than the output's.
    func check(_ pool: Pool2d, _ reference: Reference, x: [Float], shape: [Int], tag: dnnl_format_tag_t,
               _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var random = Random(seed: 7)
        let outShape = reference.outputShape(shape)
        let dy = (0..<outShape.reduce(1, *)).map { _ in random.uniform(-1, 1) }
        let expected = reference.run(x, shape, dy)
        let input = memory(x, shape, tag)

        let inference = plainValues(try pool.forward(input, training: false))
        assertSame(inference, expected.y, "\(what): inference forward", file: file, line: line)
        let output = try pool.forward(input, training: true)
        XCTAssert(same(output.desc, desc(outShape, tag)), "\(what): output not in the input's kind of layout", file: file, line: line)
        assertSame(plainValues(output), expected.y, "\(what): training forward", file: file, line: line)
        let dyMemory = memory(dy, outShape, tag == dnnl_abcd ? dnnl_aBcd8b : dnnl_abcd)
        let dx = try XCTUnwrap(pool.backward(dyMemory, inputGradient: true))
        XCTAssert(same(dx.desc, input.desc), "\(what): input gradient not in the input's layout", file: file, line: line)
        assertSame(plainValues(dx), expected.dx, "\(what): backward", file: file, line: line)
        // dx is written afresh each time, not added to the previous step's.
        let again = try XCTUnwrap(pool.backward(dyMemory, inputGradient: true))
        assertSame(plainValues(again), expected.dx, "\(what): second backward", file: file, line: line)
    }

    func testMatchesNaiveLoopsInPlainAndBlockedLayouts() throws {
        // 19 channels: plain layouts end with a partial group of 3, blocks carry padding lanes.
        // Batch 64 is above the size where the loops go parallel; at 8×6 the 2×2 windows tile the
        // input exactly, so max pooling's backward writes dx without zeroing it first.
        XCTAssertLessThanOrEqual(Windows.parallelUnits, 64 * 3 * 7 * 7)
        for shape in [[2, 19, 7, 7], [2, 19, 8, 6], [64, 19, 7, 7]] {
            let batch = shape[0]
            let configurations: [(String, () -> Pool2d, Reference)] = [
                ("max 2", { MaxPool2d(2) }, Reference(max: true, kh: 2, kw: 2, stride: 2, padding: 0)),
                ("max 3 stride 2 padding 1", { MaxPool2d(3, stride: 2, padding: 1) },
                 Reference(max: true, kh: 3, kw: 3, stride: 2, padding: 1)),
                ("max 3 stride 1", { MaxPool2d(3, stride: 1) }, Reference(max: true, kh: 3, kw: 3, stride: 1, padding: 0)),
                ("avg 2", { AvgPool2d(2) }, Reference(max: false, kh: 2, kw: 2, stride: 2, padding: 0)),
                ("avg 3 stride 2 padding 1", { AvgPool2d(3, stride: 2, padding: 1) },
                 Reference(max: false, kh: 3, kw: 3, stride: 2, padding: 1)),
                ("global average", { AdaptiveAvgPool2d() }, Reference(max: false, kh: shape[2], kw: shape[3], stride: 1, padding: 0)),
            ]
            var random = Random(seed: UInt64(batch))
            // Few distinct, all negative values: many ties, and a padded zero would win if it could.
            var x = (0..<shape.reduce(1, *)).map { _ in (random.uniform(0, 4)).rounded(.down) - 3.5 }
            // Two NaNs in one window (the later one wins) and one more elsewhere.
            for i in [5, 6, 100] { x[i] = .nan }
            for (tag, layout) in [(dnnl_abcd, "NCHW"), (dnnl_acdb, "NHWC"), (dnnl_aBcd8b, "nChw8c"), (dnnl_aBcd16b, "nChw16c")] {
                for (name, make, reference) in configurations {
                    try check(make(), reference, x: x, shape: shape, tag: tag, "\(name), \(layout), \(shape)")
                }
            }
        }
    }

    /// Values PyTorch printed (torch 2.x, F.max_pool2d / F.avg_pool2d and their backward).
    func testMatchesPyTorchOnTiesNaNsAndPadding() throws {
        for tag in [dnnl_abcd, dnnl_aBcd8b] {
            // Ties: the first 1 wins; a window with two NaNs returns NaN and routes dy to the later NaN.
            let nan = Float.nan
            let pool = MaxPool2d(2)
            let x = memory([1, 1, nan, 3, -1, -2, 1, 0, 2, nan, -2, -1], [1, 1, 2, 6], tag)
            assertSame(plainValues(try pool.forward(x, training: true)), [1, nan, -1], "max 2 forward")
            let dx = pool.backward(memory([10, 20, 30], [1, 1, 1, 3], tag), inputGradient: true)!
            assertSame(plainValues(dx), [10, 0, 0, 0, 30, 0, 0, 0, 0, 20, 0, 0], "max 2 backward")

            // All-negative input with padding: padding never wins; overlapping windows add (3 + 4).
            let padded = MaxPool2d(3, stride: 2, padding: 1)
            let values: [Float] = [-1, -2, -1, -3, -1, -2, -2, -2, -5]
            assertSame(plainValues(try padded.forward(memory(values, [1, 1, 3, 3], tag), training: true)),
                       [-1, -1, -1, -1], "max 3/2/1 forward")
            let dxPadded = padded.backward(memory([1, 2, 3, 4], [1, 1, 2, 2], tag), inputGradient: true)!
            assertSame(plainValues(dxPadded), [1, 0, 2, 0, 7, 0, 0, 0, 0], "max 3/2/1 backward")

            // Average with padding divides by the whole window (count_include_pad).
            let average = AvgPool2d(3, stride: 2, padding: 1)
            let y = plainValues(try average.forward(memory(values, [1, 1, 3, 3], tag), training: true))
            assertClose(y, [-0.7778, -0.6667, -0.8889, -1.1111], tolerance: 1e-4, "avg 3/2/1 forward")
        }
    }

    func testWrongShapesAreErrors() throws {
        XCTAssertThrowsError(try MaxPool2d(3).forward(memory([Float](repeating: 0, count: 4), [1, 1, 2, 2], dnnl_abcd), training: true)) {
            XCTAssert("\($0)".contains("input 2×2 is smaller than the 3×3 window"), "\($0)")
        }
    }
}
