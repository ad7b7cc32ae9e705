#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

// Function-like macros Swift cannot import.
static inline int optlab_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int optlab_averror_eof(void) { return AVERROR_EOF; }
static inline const char *optlab_av_error(int code) {
    static __thread char text[AV_ERROR_MAX_STRING_SIZE];
    return av_make_error_string(text, sizeof text, code);
}
