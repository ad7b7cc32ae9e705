import CFFmpeg
import Foundation

/// Writes H.264 (libx264 at preset veryfast: on flat figures as small as medium in 0.6× the
/// encoding time; yuv420p, tuned for animation) in an MP4 container through libavcodec
/// and libavformat, the index at the front (`faststart`) so a browser starts playing at once.
/// yuv420p needs even sides: an odd last column or row of the figure is left out.
final class MP4Writer: AnimationWriter {
    private let file: String
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var picture: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var converter: OpaquePointer?
    private var width = 0, height = 0
    private var nextTimestamp: Int64 = 0

    init(file: String, width: Int, height: Int, fps: Int) throws {
        self.file = file
        self.width = width & ~1
        self.height = height & ~1
        guard self.width >= 2, self.height >= 2 else { throw PlotError("cannot write '\(file)': a \(width)×\(height) frame is too small for H.264") }
        av_log_set_level(AV_LOG_ERROR)
        try check(avformat_alloc_output_context2(&format, nil, "mp4", file))
        guard let format, let codec = avcodec_find_encoder_by_name("libx264") else {
            throw PlotError("cannot write '\(file)': this FFmpeg has no libx264 encoder (Debian's libavcodec has it)")
        }
        guard let stream = avformat_new_stream(format, nil), let encoder = avcodec_alloc_context3(codec) else { throw outOfMemory() }
        self.stream = stream
        self.encoder = encoder
        encoder.pointee.width = Int32(self.width)
        encoder.pointee.height = Int32(self.height)
        encoder.pointee.time_base = AVRational(num: 1, den: Int32(fps))
        encoder.pointee.framerate = AVRational(num: Int32(fps), den: 1)
        encoder.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        // swscale converts with BT.601 at limited range; say so, so players convert back alike.
        encoder.pointee.colorspace = AVCOL_SPC_SMPTE170M
        encoder.pointee.color_primaries = AVCOL_PRI_SMPTE170M
        encoder.pointee.color_trc = AVCOL_TRC_SMPTE170M
        encoder.pointee.color_range = AVCOL_RANGE_MPEG
        if format.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            encoder.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        av_opt_set(encoder.pointee.priv_data, "preset", "veryfast", 0)
        av_opt_set(encoder.pointee.priv_data, "tune", "animation", 0)
        av_opt_set(encoder.pointee.priv_data, "crf", "23", 0)
        try check(avcodec_open2(encoder, codec, nil))
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder))
        stream.pointee.time_base = encoder.pointee.time_base
        try check(avio_open(&format.pointee.pb, file, AVIO_FLAG_WRITE))
        var options: OpaquePointer?
        av_dict_set(&options, "movflags", "+faststart", 0)
        defer { av_dict_free(&options) }
        try check(avformat_write_header(format, &options))

        guard let picture = av_frame_alloc(), let packet = av_packet_alloc() else { throw outOfMemory() }
        self.picture = picture
        self.packet = packet
        picture.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        picture.pointee.width = Int32(self.width)
        picture.pointee.height = Int32(self.height)
        try check(av_frame_get_buffer(picture, 0))
        // Cairo's ARGB32 is B, G, R, A in memory on a little-endian machine.
        converter = sws_getContext(Int32(self.width), Int32(self.height), AV_PIX_FMT_BGRA, Int32(self.width), Int32(self.height),
                                   AV_PIX_FMT_YUV420P, SWS_BICUBIC, nil, nil, nil)
        guard converter != nil else { throw PlotError("cannot write '\(file)': swscale cannot convert to yuv420p") }
    }

    deinit {
        sws_freeContext(converter)
        av_frame_free(&picture)
        av_packet_free(&packet)
        avcodec_free_context(&encoder)
        if let format {
            if format.pointee.pb != nil { avio_closep(&format.pointee.pb) }
            avformat_free_context(format)
        }
    }

    func add(_ frame: Raster, duration: Int) throws {
        guard let picture, let encoder else { throw PlotError("cannot write '\(file)': the video is already finished") }
        try check(av_frame_make_writable(picture))
        frame.pixels.withUnsafeBytes { bytes in
            var source: UnsafePointer<UInt8>? = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var sourceStride = Int32(frame.width * 4)
            withUnsafeMutablePointer(to: &picture.pointee.data) { data in
                withUnsafeMutablePointer(to: &picture.pointee.linesize) { linesize in
                    data.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { planes in
                        linesize.withMemoryRebound(to: Int32.self, capacity: 8) { strides in
                            _ = sws_scale(converter, &source, &sourceStride, 0, Int32(height), planes, strides)
                        }
                    }
                }
            }
        }
        // A held frame is the same picture repeated: H.264 stores the repeats in a few bytes.
        for _ in 0..<duration {
            picture.pointee.pts = nextTimestamp
            nextTimestamp += 1
            try check(avcodec_send_frame(encoder, picture))
            try writePackets()
        }
    }

    func finish() throws {
        guard let encoder, let format else { return }
        try check(avcodec_send_frame(encoder, nil))
        try writePackets()
        try check(av_write_trailer(format))
        try check(avio_closep(&format.pointee.pb))
    }

    /// Moves every packet the encoder has ready into the file.
    private func writePackets() throws {
        guard let encoder, let packet, let stream, let format else { return }
        while true {
            let status = avcodec_receive_packet(encoder, packet)
            if status == optlab_averror_eagain() || status == optlab_averror_eof() { return }
            try check(status)
            packet.pointee.duration = 1  // one frame period, so the last frame counts in the length
            av_packet_rescale_ts(packet, encoder.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            try check(av_interleaved_write_frame(format, packet))
        }
    }

    private func check(_ status: Int32) throws {
        guard status >= 0 else { throw PlotError("cannot write '\(file)': \(String(cString: optlab_av_error(status)))") }
    }

    private func outOfMemory() -> PlotError { PlotError("cannot write '\(file)': out of memory") }
}
