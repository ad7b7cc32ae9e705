#ifndef OPTLAB_CKERNELS_H
#define OPTLAB_CKERNELS_H

#include <stdbool.h>

/// The widest vectors, in floats, that optlab's kernels can use on this CPU: 16 with AVX-512
/// (F and VL, with the OS saving its registers), else 8 (AVX2 + FMA, or portable code off x86).
int optlab_cpu_lanes(void);

/// c[i, j] (+)= Σ_r a[i·aRow + r·aDepth] · b[r·bRow + j] for i < rows, j < columns (a multiple of
/// 16): one fused multiply-add per term, in order of r, so both widths give the same bits.
/// 8 lanes: 6 × 16 blocks of c; 16 lanes (AVX-512 CPUs only): 12 × 32 and 12 × 16 blocks.
void optlab_multiply_8lanes(long rows, long columns, long depth, const float *a, long aRow, long aDepth,
                            const float *b, long bRow, float *c, long cRow, bool accumulate);
#if defined(__x86_64__)
void optlab_multiply_16lanes(long rows, long columns, long depth, const float *a, long aRow, long aDepth,
                             const float *b, long bRow, float *c, long cRow, bool accumulate);
#endif

#endif
