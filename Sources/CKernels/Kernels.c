#include "CKernels.h"

// One source per width: Product.h, compiled here once per vector width with per-function target
// attributes, so the package's flags stay baseline x86-64 + FMA and the binary runs on AVX2-only
// CPUs; the 16-lane kernel is called only where optlab_cpu_lanes() says 16.

#if defined(__x86_64__)
int optlab_cpu_lanes(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") ? 16 : 8;
}
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#endif
#define LANES 8
#define ROWS 6
#define SUFFIX 8lanes
#include "Product.h"
#undef LANES
#undef ROWS
#undef SUFFIX
#if defined(__x86_64__)
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,fma"))), apply_to = function)
#define LANES 16
#define ROWS 12
#define SUFFIX 16lanes
#include "Product.h"
#undef LANES
#undef ROWS
#undef SUFFIX
#pragma clang attribute pop
#else
int optlab_cpu_lanes(void) { return 8; }
#endif
