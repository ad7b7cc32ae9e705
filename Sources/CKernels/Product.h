// The register-blocked matrix product of Winograd's convolutions, written once for a vector width:
// Kernels.c includes it per width with LANES (floats per vector), ROWS (rows of c per block: the
// accumulators, ROWS × 2 vectors, plus two of b and a broadcast must fit the register file),
// SUFFIX (the name's ending) and the target attribute already pushed.

#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)
#define VEC CONCAT(vector_, SUFFIX)
#define BLOCK CONCAT(block_, SUFFIX)

typedef float VEC __attribute__((vector_size(4 * LANES), aligned(4)));

static inline __attribute__((always_inline)) VEC CONCAT(splat_, SUFFIX)(float x) {
    VEC v;
    for (int lane = 0; lane < LANES; lane++) v[lane] = x;
    return v;
}

/// One `rows` × (`vectors` · LANES) block of c; rows and vectors are constants after inlining, so
/// the accumulators live in registers.
static inline __attribute__((always_inline)) void BLOCK(int rows, int vectors, long depth, const float *a, long aRow,
                                                        long aDepth, const float *b, long bRow, float *c, long cRow,
                                                        bool accumulate) {
    VEC acc[ROWS][2];
    for (int i = 0; i < rows; i++)
        for (int v = 0; v < vectors; v++)
            acc[i][v] = accumulate ? *(const VEC *)(c + i * cRow + v * LANES) : (VEC){0};
    for (long r = 0; r < depth; r++) {
        VEC b0 = *(const VEC *)b, b1 = vectors > 1 ? *(const VEC *)(b + LANES) : (VEC){0};
        for (int i = 0; i < rows; i++) {
            VEC s = CONCAT(splat_, SUFFIX)(a[i * aRow]);
            acc[i][0] = __builtin_elementwise_fma(s, b0, acc[i][0]);
            if (vectors > 1) acc[i][1] = __builtin_elementwise_fma(s, b1, acc[i][1]);
        }
        a += aDepth;
        b += bRow;
    }
    for (int i = 0; i < rows; i++)
        for (int v = 0; v < vectors; v++) *(VEC *)(c + i * cRow + v * LANES) = acc[i][v];
}

/// Blocks of 2 vectors' width while they fit the columns, then one (16 columns at 16 lanes);
/// columns outermost, so a depth × block panel of b stays in L1 while the rows pass over it.
void CONCAT(optlab_multiply_, SUFFIX)(long rows, long columns, long depth, const float *a, long aRow, long aDepth,
                                      const float *b, long bRow, float *c, long cRow, bool accumulate) {
    for (long j = 0; j < columns;) {
        int vectors = columns - j >= 2 * LANES ? 2 : 1;
        for (long i = 0; i < rows; i += ROWS) {
            const float *ai = a + i * aRow, *bj = b + j;
            float *cij = c + i * cRow + j;
            long left = rows - i < ROWS ? rows - i : ROWS;
#define CASE(n) case n: \
                if (vectors == 2) BLOCK(n, 2, depth, ai, aRow, aDepth, bj, bRow, cij, cRow, accumulate); \
                else BLOCK(n, 1, depth, ai, aRow, aDepth, bj, bRow, cij, cRow, accumulate); \
                break;
            switch (left) {
                CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
#if ROWS > 6
                CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12)
#endif
            }
#undef CASE
        }
        j += vectors * LANES;
    }
}

#undef VEC
#undef BLOCK
