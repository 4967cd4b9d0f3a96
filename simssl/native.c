/* simssl's fused CPU kernels, compiled on first use by simssl/native.py (C99 with GCC/Clang vector
 * extensions; no Python or torch headers, so it compiles in a fraction of a second).
 *
 * Each kernel does in one pass, per particle, what the reference torch code (simssl/model/layers.py,
 * simssl/shells.py) does in dozens of elementwise passes over (particles, k, k, width) or
 * (harmonics, particles, width) temporaries: every intermediate stays in registers or L1 cache.
 * Arithmetic is float32 as in the torch code (no fused multiply-adds, no reassociation beyond the order
 * of sums); results agree with it to float32 round-off (tests/test_native.py). Each function handles
 * rows [first, last) of its arrays, so callers split the work between threads.
 *
 * Two kinds of builds: by default the shell spectra and ball query kernels; with ENCODER_ACTIVATION and the
 * widths defined, the encoder layer of that configuration.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* limits (checked by simssl/native.py): per-tuple hidden units, shell windows, degree, bonds per particle */
#define MAX_HIDDEN 1024
#define MAX_WINDOWS 8
#define MAX_DEGREE 32
#define MAX_BONDS 1024
#define MAX_PARTNER_TERMS 16384 /* bonds (rounded up to LANES) x score units of the pair kernel */
#define MAX_HARMONICS ((MAX_DEGREE + 1) * (MAX_DEGREE + 1))

/* LANES floats in one vector: one AVX-512 register, two AVX2 or four SSE/NEON ones */
#define LANES 16
typedef float vec __attribute__((vector_size(LANES * sizeof(float))));
typedef int32_t mask __attribute__((vector_size(LANES * sizeof(float))));

static inline vec load(const float *p) {
    vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store(float *p, vec v) { memcpy(p, &v, sizeof v); }

static inline vec splat(float x) { return (vec){0} + x; }

static inline vec select(mask m, vec a, vec b) { return (vec)((m & (mask)a) | (~m & (mask)b)); }

typedef float half __attribute__((vector_size(LANES / 2 * sizeof(float))));
typedef float quarter __attribute__((vector_size(LANES / 4 * sizeof(float))));

/* the sum of a vector's lanes, by halves (lane t plus lane t + 8, then t + 4, t + 2, t + 1) */
static inline float sum_lanes(vec v) {
    half low, high;
    memcpy(&low, &v, sizeof low);
    memcpy(&high, (const char *)&v + sizeof low, sizeof high);
    const half eight = low + high;
    quarter first, second;
    memcpy(&first, &eight, sizeof first);
    memcpy(&second, (const char *)&eight + sizeof first, sizeof second);
    const quarter four = first + second;
    return (four[0] + four[2]) + (four[1] + four[3]);
}

#ifdef ENCODER_ACTIVATION

/* the activations of simssl.model.layers.ACTIVATIONS, lane by lane */
static inline vec act_relu(vec x) { return select(x > (vec){0}, x, (vec){0}); }

static inline vec act_smooth_relu(vec x) {
    const vec one = splat(1.0f), clamped = select(x < -one, -one, select(x > one, one, x)), knee = clamped + one;
    return splat(0.25f) * knee * knee + act_relu(x - one);
}

#define LANEWISE(NAME, EXPRESSION)                        \
    static inline vec NAME(vec v) {                       \
        float x[LANES];                                   \
        store(x, v);                                      \
        for (int t = 0; t < LANES; t++) x[t] = EXPRESSION; \
        return load(x);                                   \
    }
LANEWISE(act_silu, x[t] / (1.0f + expf(-x[t])))
LANEWISE(act_gelu, 0.5f * x[t] * (1.0f + erff(x[t] * 0.70710678118654752f)))
LANEWISE(act_tanh, tanhf(x[t]))

/* e^x lane by lane (Cephes' expf: range reduction by ln 2, degree-6 polynomial; within 2 ulp of expf),
 * saturating to 0 below -87.3 and to +inf above 88.7 */
static inline vec vexp(vec x) {
    const vec high = splat(88.72283f), low = splat(-87.33655f);
    const mask over = x > high, under = x < low;
    x = select(over, high, select(under, low, x));
    vec n = x * 1.44269504088896341f + 0.5f;
    const mask integer = __builtin_convertvector(n, mask);
    vec whole = __builtin_convertvector(integer, vec);
    whole = select(whole > n, whole - 1.0f, whole); /* floor */
    x = x - whole * 0.693359375f - whole * -2.12194440e-4f;
    vec p = splat(1.9875691500e-4f);
    p = p * x + 1.3981999507e-3f;
    p = p * x + 8.3334519073e-3f;
    p = p * x + 4.1665795894e-2f;
    p = p * x + 1.6666665459e-1f;
    p = p * x + 5.0000001201e-1f;
    p = p * x * x + x + 1.0f;
    const mask bits = (__builtin_convertvector(whole, mask) + 127) << 23;
    const vec result = p * (vec)bits;
    return select(over, splat(INFINITY), select(under, (vec){0}, result));
}

/* out (+)= bias + sums linear: the value MLP's output layer (sums (V), linear (V, D), bias (D)), added to out
 * (a residual) or stored; four partial sums over the V inputs, so the additions do not wait on each other */
static inline __attribute__((always_inline)) void output_layer(const float *sums, const float *linear,
                                                               const float *bias, int64_t V, int64_t D, float *out,
                                                               int add) {
    for (int64_t q = 0; q < D / LANES; q++) {
        vec p0 = {0}, p1 = {0}, p2 = {0}, p3 = {0};
        for (int64_t u = 0; u < V; u += 4) { /* V is a multiple of LANES */
            p0 += sums[u] * load(linear + u * D + q * LANES);
            p1 += sums[u + 1] * load(linear + (u + 1) * D + q * LANES);
            p2 += sums[u + 2] * load(linear + (u + 2) * D + q * LANES);
            p3 += sums[u + 3] * load(linear + (u + 3) * D + q * LANES);
        }
        const vec result = load(bias + q * LANES) + ((p0 + p1) + (p2 + p3));
        store(out + q * LANES, add ? load(out + q * LANES) + result : result);
    }
}

/* One layer of the encoder (simssl/model/encoder.py) for particles b in [first, last): a residual block
 * (reduce = 0) or the reducing attention (reduce = 1), with gated rank-2 GAAttention (layers.py):
 *
 *   x_j = [LayerNorm(f_j), |r_j|],   t_j = x_j linear + bias   (per bond: the score and value MLPs'
 *        first-layer terms, first slot t_j[:H] and second slot t_j[H:], H = S + V),
 *   z_jl = t_j[:H] + t_l[H:] + (r_j . r_l) inv[0] + |r_j ^ r_l| inv[1],
 *   s_jl = sum_{u < S} act(z_jl[u]) score_out[u],   sums_j = sum_l w_l sigmoid(s_jl) act(z_jl[S:]),
 *   reduce = 0:  f_j += (sums_j / sum_l w_l) linear_out + bias_out   for bonds with w_j > 0,
 *   reduce = 1:  pooled[b] = (sum_j w_j sums_j / (sum_l w_l)^2) linear_out + bias_out,
 *
 * the totals clamped below at `floor`. features (B, k, D); bonds (B, k, 3) unit-free; w (B, k) bond
 * weights (0: padding); norm_weight, norm_bias (D); linear (D + 1, 2H) and bias (2H) (the first layers,
 * transposed); inv (2, H); score_out (S); linear_out (V, D) and bias_out (D) (the value MLP's output
 * layer, transposed); pooled (B, D); uniform: every bond of a particle has the same features (the first
 * block of a geometry-only model), so their LayerNorm and linear layer are computed once. D, S and V are
 * multiples of LANES (the caller pads hidden units
 * with zero weights), S + V <= MAX_HIDDEN, k <= MAX_BONDS and k (rounded up to LANES) x S <= MAX_PARTNER_TERMS.
 *
 * Per bond j the scores and gates of LANES partners l at a time are computed one partner per lane (the
 * partners' score terms transposed once per particle), then the value units, LANES at a time, are summed
 * over the partners. Returns 0, or 1 if the scratch memory could not be allocated.
 */
enum { RELU, SMOOTH_RELU, SILU, GELU, TANH };

/* the activation of simssl.model.layers.ACTIVATIONS numbered `activation` (a constant once inlined) */
static inline __attribute__((always_inline)) vec activate(const int activation, vec x) {
    switch (activation) {
        case RELU: return act_relu(x);
        case SMOOTH_RELU: return act_smooth_relu(x);
        case SILU: return act_silu(x);
        case GELU: return act_gelu(x);
        default: return act_tanh(x);
    }
}

static inline __attribute__((always_inline)) int layer(
    float *features, const float *bonds, const float *w, const float *norm_weight, const float *norm_bias, float eps,
    const float *linear, const float *bias, const float *inv, const float *score_out, const float *linear_out,
    const float *bias_out, float floor, int64_t first, int64_t last, int64_t k, const int64_t D, const int64_t S,
    const int64_t V, int64_t reduce, int64_t uniform, float *pooled, const int activation) {
    const int64_t H = S + V;
    float *terms = malloc((size_t)(k * 2 * H) * sizeof(float));
    if (!terms) return 1;
    float partner[MAX_PARTNER_TERMS], x[MAX_BONDS], y[MAX_BONDS], z[MAX_BONDS], weight[MAX_BONDS];
    float dot[MAX_BONDS], wedge[MAX_BONDS], gate[MAX_BONDS], normed[MAX_HIDDEN], mean_sums[MAX_HIDDEN];
    int64_t row[MAX_BONDS];
    vec acc[2][MAX_HIDDEN / LANES], total_acc[MAX_HIDDEN / LANES], t[2 * MAX_HIDDEN / LANES];
    vec shared[2 * MAX_HIDDEN / LANES]; /* the first bond's terms without its length term */
    for (int64_t b = first; b < last; b++) {
        float *f = features + b * k * D;
        const float *r = bonds + b * k * 3;
        /* the particle's bonds of weight > 0, packed (n of them), padded to whole vectors with weight 0 */
        int64_t n = 0;
        float total = 0.0f;
        for (int64_t j = 0; j < k; j++) {
            if (!(w[b * k + j] > 0.0f)) continue;
            row[n] = j;
            x[n] = r[3 * j];
            y[n] = r[3 * j + 1];
            z[n] = r[3 * j + 2];
            weight[n] = w[b * k + j];
            total += weight[n++];
        }
        const int64_t padded = (n + LANES - 1) / LANES * LANES;
        for (int64_t l = n; l < padded; l++) x[l] = y[l] = z[l] = weight[l] = 0.0f;
        for (int64_t j = 0; j < n; j++) { /* first-layer terms: LayerNorm, then the linear layer */
            if (uniform && j) { /* every bond's features are the first's: only the length term differs */
                const float length = sqrtf(x[j] * x[j] + y[j] * y[j] + z[j] * z[j]);
                for (int64_t q = 0; q < 2 * H / LANES; q++) {
                    store(terms + j * 2 * H + q * LANES, shared[q] + length * load(linear + D * 2 * H + q * LANES));
                }
                continue;
            }
            const float *fj = f + row[j] * D;
            float mean = 0.0f, variance = 0.0f;
            for (int64_t i = 0; i < D; i++) mean += fj[i];
            mean /= (float)D;
            for (int64_t i = 0; i < D; i++) variance += (fj[i] - mean) * (fj[i] - mean);
            const float scale = 1.0f / sqrtf(variance / (float)D + eps);
            for (int64_t i = 0; i < D; i++) normed[i] = (fj[i] - mean) * scale * norm_weight[i] + norm_bias[i];
            normed[D] = sqrtf(x[j] * x[j] + y[j] * y[j] + z[j] * z[j]);
            for (int64_t q = 0; q < 2 * H / LANES; q++) t[q] = load(bias + q * LANES);
            for (int64_t i = 0; i < D; i++) {
                for (int64_t q = 0; q < 2 * H / LANES; q++) t[q] += normed[i] * load(linear + i * 2 * H + q * LANES);
            }
            for (int64_t q = 0; q < 2 * H / LANES; q++) {
                shared[q] = t[q];
                store(terms + j * 2 * H + q * LANES, t[q] + normed[D] * load(linear + D * 2 * H + q * LANES));
            }
        }
        for (int64_t block = 0; block < padded; block += LANES) { /* score terms, partners in lanes */
            for (int64_t u = 0; u < S; u++) {
                for (int lane = 0; lane < LANES; lane++) {
                    const int64_t l = block + lane;
                    partner[(block / LANES * S + u) * LANES + lane] = l < n ? terms[l * 2 * H + H + u] : 0.0f;
                }
            }
        }
        for (int64_t q = 0; q < V / LANES; q++) total_acc[q] = (vec){0};
        for (int64_t j = 0; j < n; j++) {
            const float *a = terms + j * 2 * H;
            const float x1 = x[j], x2 = y[j], x3 = z[j];
            for (int64_t block = 0; block < padded; block += LANES) { /* scores and gates, a partner a lane */
                const vec y1 = load(x + block), y2 = load(y + block), y3 = load(z + block);
                const vec d = x1 * y1 + x2 * y2 + x3 * y3;
                const vec e12 = x1 * y2 - x2 * y1, e13 = x1 * y3 - x3 * y1, e23 = x2 * y3 - x3 * y2;
                float root[LANES];
                store(root, e12 * e12 + e13 * e13 + e23 * e23);
                for (int lane = 0; lane < LANES; lane++) root[lane] = root[lane] > 0.0f ? sqrtf(root[lane]) : 0.0f;
                const vec e = load(root);
                vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}; /* partial sums: no chain of dependent additions */
                const float *column = partner + block / LANES * S * LANES;
                for (int64_t u = 0; u < S; u += 4) { /* S is a multiple of LANES */
                    s0 += activate(activation, a[u] + load(column + u * LANES) + d * inv[u] + e * inv[H + u]) *
                          score_out[u];
                    s1 += activate(activation, a[u + 1] + load(column + (u + 1) * LANES) + d * inv[u + 1] +
                                                   e * inv[H + u + 1]) * score_out[u + 1];
                    s2 += activate(activation, a[u + 2] + load(column + (u + 2) * LANES) + d * inv[u + 2] +
                                                   e * inv[H + u + 2]) * score_out[u + 2];
                    s3 += activate(activation, a[u + 3] + load(column + (u + 3) * LANES) + d * inv[u + 3] +
                                                   e * inv[H + u + 3]) * score_out[u + 3];
                }
                store(dot + block, d);
                store(wedge + block, e);
                store(gate + block, load(weight + block) / (1.0f + vexp(-((s0 + s1) + (s2 + s3)))));
            }
            /* value sums, units in lanes: partners two at a time into two partial sums */
            for (int64_t q = 0; q < V / LANES; q++) acc[0][q] = acc[1][q] = (vec){0};
            for (int64_t l = 0; l < n; l += 2) {
                const int64_t m = l + 1 < n ? l + 1 : l; /* an odd last partner is taken with gate 0 */
                const float *c0 = terms + l * 2 * H + H, *c1 = terms + m * 2 * H + H;
                const float d0 = dot[l], e0 = wedge[l], g0 = gate[l], d1 = dot[m], e1 = wedge[m];
                const float g1 = l + 1 < n ? gate[m] : 0.0f;
                for (int64_t u = S, q = 0; u < H; u += LANES, q++) {
                    const vec first_slot = load(a + u), i0 = load(inv + u), i1 = load(inv + H + u);
                    acc[0][q] += g0 * activate(activation, first_slot + load(c0 + u) + d0 * i0 + e0 * i1);
                    acc[1][q] += g1 * activate(activation, first_slot + load(c1 + u) + d1 * i0 + e1 * i1);
                }
            }
            for (int64_t q = 0; q < V / LANES; q++) acc[0][q] += acc[1][q];
            if (reduce) {
                for (int64_t q = 0; q < V / LANES; q++) total_acc[q] += weight[j] * acc[0][q];
                continue;
            }
            const float divisor = total > floor ? total : floor;
            for (int64_t q = 0; q < V / LANES; q++) store(mean_sums + q * LANES, acc[0][q] / divisor);
            output_layer(mean_sums, linear_out, bias_out, V, D, f + row[j] * D, 1);
        }
        if (reduce) {
            const float divisor = total * total > floor ? total * total : floor;
            for (int64_t q = 0; q < V / LANES; q++) store(mean_sums + q * LANES, total_acc[q] / divisor);
            output_layer(mean_sums, linear_out, bias_out, V, D, pooled + b * D, 0);
        }
    }
    free(terms);
    return 0;
}

/* The build for one encoder configuration (simssl/native.py compiles one per activation and widths, each
 * with its widths as constants, so the compiler unrolls every loop over units):
 * -DENCODER_ACTIVATION=RELU -DENCODER_DIM=32 -DENCODER_SCORE=16 -DENCODER_VALUE=32 (the shipped model's). */
int encoder_layer(float *features, const float *bonds, const float *w, const float *norm_weight, const float *norm_bias,
                  float eps, const float *linear, const float *bias, const float *inv, const float *score_out,
                  const float *linear_out, const float *bias_out, float floor, int64_t first, int64_t last, int64_t k,
                  int64_t reduce, int64_t uniform, float *pooled) {
    return layer(features, bonds, w, norm_weight, norm_bias, eps, linear, bias, inv, score_out, linear_out, bias_out,
                 floor, first, last, k, ENCODER_DIM, ENCODER_SCORE, ENCODER_VALUE, reduce, uniform, pooled,
                 ENCODER_ACTIVATION);
}

#else /* the kernels every build of simssl needs: shell spectra and ball queries */

/* each lane's index */
static const float LANE[LANES] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* Shell density coefficients (ShellSpectra.add, simssl/shells.py): for particle i of rows [first, last),
 *
 *   density[c, i, h] = sum_j g_c(|r_ij| / scale) Y_h(r_ij / |r_ij|) / norms[c, i],
 *   norms[c, i] = 1 + sum_j g_c(|r_ij| / scale),
 *
 * g_c the smooth window of outer radius radii[c] (simssl/smooth.py), Y_h the real orthonormal spherical
 * harmonics of the given degrees in real_harmonics' order (per degree: m = 0, then cos/sin pairs), by the
 * same normalized associated-Legendre recursion. A particle's bonds are taken LANES at a time (one per
 * lane): every harmonic is accumulated lane by lane, and the lanes are summed once per particle.
 *
 * vectors (n, width, 3) float32 bond vectors and indices (n, width) int64 (-1: padding) of the block;
 * density (C, n_all, H) and norms (C, n_all) are the frame's arrays, row `offset` being the block's first.
 * Returns 0, or 1 if memory for the lane sums could not be allocated.
 */
int shell_density(const float *vectors, const int64_t *indices, int64_t first, int64_t last, int64_t width,
                   float scale, const float *radii, int64_t n_windows, float taper, const int64_t *degrees,
                   int64_t n_degrees, int64_t offset, int64_t n_all, float *density, float *norms) {
    int64_t lmax = 0, n_harmonics = 0, wanted[MAX_DEGREE + 1] = {0}, start[MAX_DEGREE + 1] = {0};
    for (int64_t d = 0; d < n_degrees; d++) {
        lmax = degrees[d] > lmax ? degrees[d] : lmax;
        start[degrees[d]] = n_harmonics; /* first column of degree l */
        n_harmonics += 2 * degrees[d] + 1;
        wanted[degrees[d]] = 1;
    }
    /* the recursion's constants, computed in double and rounded, as the torch code does */
    float factor[MAX_DEGREE + 1], a[MAX_DEGREE + 1][MAX_DEGREE + 1], b[MAX_DEGREE + 1][MAX_DEGREE + 1];
    for (int64_t m = 0; m <= lmax; m++) {
        factor[m] = m ? (float)sqrt((2.0 * m + 1.0) / (2.0 * m)) : 1.0f;
        for (int64_t l = m + 1; l <= lmax; l++) {
            const double ll = (double)l * l, mm = (double)m * m;
            a[m][l] = l == m + 1 ? (float)sqrt(2.0 * m + 3.0) : (float)sqrt((4.0 * ll - 1.0) / (ll - mm));
            b[m][l] = l == m + 1 ? 0.0f : (float)sqrt((2.0 * l + 1.0) * ((l - 1.0) * (l - 1.0) - mm) /
                                                      ((2.0 * l - 3.0) * (ll - mm)));
        }
    }
    const vec root2 = splat((float)sqrt(2.0)), y00 = splat((float)sqrt(1.0 / (4.0 * 3.14159265358979323846)));
    char *memory = malloc((size_t)(n_windows * n_harmonics + 1) * sizeof(vec));
    if (!memory) return 1; /* out of memory */
    vec *acc = (vec *)(((uintptr_t)memory + sizeof(vec) - 1) / sizeof(vec) * sizeof(vec)); /* aligned to a vector */
    float x[MAX_BONDS + LANES], y[MAX_BONDS + LANES], z[MAX_BONDS + LANES], g[MAX_WINDOWS][MAX_BONDS + LANES];
    for (int64_t i = first; i < last; i++) {
        /* this particle's real bonds, packed and padded to whole vectors with zeros */
        int64_t n = 0;
        for (int64_t t = 0; t < width; t++) {
            if (indices[i * width + t] < 0) continue;
            const float *v = vectors + (i * width + t) * 3;
            x[n] = v[0];
            y[n] = v[1];
            z[n++] = v[2];
        }
        const float real = (float)n; /* bonds; the lanes beyond are padding */
        for (; n % LANES; n++) x[n] = y[n] = z[n] = 0.0f;
        /* unit vectors and window weights, LANES bonds at a time (padding: weight 0) */
        vec totals[MAX_WINDOWS];
        for (int64_t c = 0; c < n_windows; c++) totals[c] = (vec){0};
        for (int64_t group = 0; group < n; group += LANES) {
            const vec gx = load(x + group), gy = load(y + group), gz = load(z + group);
            float lengths[LANES];
            store(lengths, gx * gx + gy * gy + gz * gz);
            for (int t = 0; t < LANES; t++) lengths[t] = sqrtf(lengths[t]);
            const vec length = load(lengths), unit_free = length / scale;
            const vec norm = select(length > 1e-30f, length, splat(1e-30f));
            store(x + group, gx / norm);
            store(y + group, gy / norm);
            store(z + group, gz / norm);
            for (int64_t c = 0; c < n_windows; c++) {
                vec s = (radii[c] - unit_free) / taper;
                s = select(s < 0.0f, (vec){0}, select(s > 1.0f, splat(1.0f), s));
                const vec envelope = s * s * s * (10.0f + s * (6.0f * s - 15.0f));
                const vec weight = select(load(LANE) + (float)group < real, envelope, (vec){0});
                store(g[c] + group, weight);
                totals[c] += weight;
            }
        }
        float total[MAX_WINDOWS];
        for (int64_t c = 0; c < n_windows; c++) total[c] = sum_lanes(totals[c]);
        for (int64_t h = 0; h < n_windows * n_harmonics; h++) acc[h] = (vec){0};
        for (int64_t group = 0; group < n; group += LANES) {
            const vec gx = load(x + group), gy = load(y + group), gz = load(z + group);
            vec weight[MAX_WINDOWS];
            for (int64_t c = 0; c < n_windows; c++) weight[c] = load(g[c] + group);
            vec cos_m = splat(1.0f), sin_m = (vec){0}, diagonal = y00;
            for (int64_t m = 0; m <= lmax; m++) {
                if (m) { /* (x + iy)^m, and the normalized P_m^m / rho^m */
                    const vec c = cos_m;
                    cos_m = gx * c - gy * sin_m;
                    sin_m = gx * sin_m + gy * c;
                    diagonal = diagonal * factor[m];
                }
                vec previous = (vec){0}, current = diagonal;
                for (int64_t l = m; l <= lmax; l++) {
                    if (l > m) {
                        const vec next = a[m][l] * gz * current - b[m][l] * previous;
                        previous = current;
                        current = next;
                    }
                    if (!wanted[l]) continue;
                    if (!m) { /* the column of (l, 0): P */
                        for (int64_t c = 0; c < n_windows; c++) acc[c * n_harmonics + start[l]] += weight[c] * current;
                    } else { /* the columns of (l, m): sqrt2 P cos, sqrt2 P sin */
                        const vec scaled = root2 * current, real = scaled * cos_m, imaginary = scaled * sin_m;
                        const int64_t column = start[l] + 2 * m - 1;
                        for (int64_t c = 0; c < n_windows; c++) {
                            acc[c * n_harmonics + column] += weight[c] * real;
                            acc[c * n_harmonics + column + 1] += weight[c] * imaginary;
                        }
                    }
                }
            }
        }
        for (int64_t c = 0; c < n_windows; c++) {
            const float norm = 1.0f + total[c];
            float *out = density + (c * n_all + offset + i) * n_harmonics;
            norms[c * n_all + offset + i] = norm;
            for (int64_t h = 0; h < n_harmonics; h++) out[h] = sum_lanes(acc[c * n_harmonics + h]) / norm;
        }
    }
    free(memory);
    return 0;
}

/* Shell spectra from the density coefficients (ShellSpectra.spectra, simssl/shells.py), for rows
 * [first, last) of a block of consecutive particles whose hop bonds are given in CSR form: per window c,
 *
 *   Abar_c(i) = (A_c(i) + sum_j g_c(|r_ij|) A_c(j)) / norms[c, i],
 *
 * then per degree l the invariants sqrt(4 pi / (2l + 1) sum_m A_clm^2) of A_c(i) and of Abar_c(i).
 * density (C, n_all, H) and norms (C, n_all) of the whole frame; row_starts (n + 1) int32, neighbors (b)
 * int32 and lengths (b) float32 (unit-free) of the block, whose first particle is row `offset` of the
 * frame; out (n_all, C, n_degrees, 2) float32: raw, then averaged.
 */
void shell_hop(const float *density, const float *norms, int64_t n_all, int64_t n_harmonics, const float *radii,
               int64_t n_windows, float taper, const int64_t *degrees, int64_t n_degrees, const int32_t *row_starts,
               const int32_t *neighbors, const float *lengths, int64_t offset, int64_t first, int64_t last,
               float *out) {
    float averaged[MAX_HARMONICS];
    for (int64_t row = first; row < last; row++) {
        const int64_t i = offset + row;
        for (int64_t c = 0; c < n_windows; c++) {
            const float *own = density + (c * n_all + i) * n_harmonics;
            for (int64_t h = 0; h < n_harmonics; h++) averaged[h] = 0.0f;
            for (int32_t bond = row_starts[row]; bond < row_starts[row + 1]; bond++) {
                float s = (radii[c] - lengths[bond]) / taper;
                s = s < 0.0f ? 0.0f : (s > 1.0f ? 1.0f : s);
                const float g = s * s * s * (10.0f + s * (6.0f * s - 15.0f));
                if (g == 0.0f) continue;
                const float *other = density + (c * n_all + neighbors[bond]) * n_harmonics;
                for (int64_t h = 0; h < n_harmonics; h++) averaged[h] += g * other[h];
            }
            const float norm = norms[c * n_all + i];
            for (int64_t h = 0; h < n_harmonics; h++) averaged[h] = (averaged[h] + own[h]) / norm;
            float *spectra = out + (i * n_windows + c) * n_degrees * 2;
            for (int64_t d = 0, column = 0; d < n_degrees; column += 2 * degrees[d] + 1, d++) {
                float raw = 0.0f, mean = 0.0f;
                for (int64_t m = column; m < column + 2 * degrees[d] + 1; m++) {
                    raw += own[m] * own[m];
                    mean += averaged[m] * averaged[m];
                }
                const float factor = (float)sqrt(4.0 * 3.14159265358979323846 / (2.0 * degrees[d] + 1.0));
                spectra[2 * d] = factor * sqrtf(raw);
                spectra[2 * d + 1] = factor * sqrtf(mean);
            }
        }
    }
}

/* Ball query by cell list (simssl.neighbors' cutoff neighborhoods): for each query particle i in [first, last),
 * every particle j != i within r_max, and the minimum-image bond vector r_ij = x_j - x_i (computed in double
 * from the float32 positions, stored in float32), bonds grouped by query particle.
 *
 * The periodic box is `matrix` (3 x 3, row-major, its columns the box vectors) with `inverse`; r_max is below
 * half its smallest plane distance, so every bond has one minimum image. Cells: a dims[0] x dims[1] x dims[2]
 * grid over fractional coordinates, each cell at least r_max across; particle p lies in cell cells[3p..3p+2];
 * the occupied cells have sorted keys (a * dims[1] + b) * dims[2] + c, and cell keys[q] holds particles
 * order[starts[q]] to order[starts[q + 1] - 1].
 *
 * Writes counts[i - first] and, while they fit in `capacity`, the bonds' neighbors (points) and vectors
 * (3 floats each). Returns the number of bonds found (more than `capacity`: call again with room for them).
 */
int64_t ball_query(const float *positions, const double *matrix, const double *inverse, const int64_t *dims,
                   const int64_t *cells, const int64_t *keys, int64_t n_keys, const int64_t *starts,
                   const int64_t *order, double r_max, int64_t first, int64_t last, int64_t capacity,
                   int64_t *counts, int32_t *points, float *vectors) {
    int64_t offsets[3][3], n_offsets[3];
    for (int axis = 0; axis < 3; axis++) { /* neighbor cells along an axis, each once even in a grid of 1 or 2 */
        n_offsets[axis] = dims[axis] >= 3 ? 3 : dims[axis];
        offsets[axis][0] = 0;
        offsets[axis][1] = 1;
        offsets[axis][2] = -1;
    }
    const double squared = r_max * r_max;
    int64_t written = 0;
    for (int64_t i = first; i < last; i++) {
        const double xi = positions[3 * i], yi = positions[3 * i + 1], zi = positions[3 * i + 2];
        int64_t found = 0;
        for (int64_t oa = 0; oa < n_offsets[0]; oa++) {
            const int64_t a = (cells[3 * i] + offsets[0][oa] + dims[0]) % dims[0];
            for (int64_t ob = 0; ob < n_offsets[1]; ob++) {
                const int64_t b = (cells[3 * i + 1] + offsets[1][ob] + dims[1]) % dims[1];
                for (int64_t oc = 0; oc < n_offsets[2]; oc++) {
                    const int64_t c = (cells[3 * i + 2] + offsets[2][oc] + dims[2]) % dims[2];
                    const int64_t key = (a * dims[1] + b) * dims[2] + c;
                    int64_t low = 0, high = n_keys; /* binary search among the occupied cells */
                    while (low < high) {
                        const int64_t middle = low + (high - low) / 2;
                        if (keys[middle] < key) {
                            low = middle + 1;
                        } else {
                            high = middle;
                        }
                    }
                    if (low == n_keys || keys[low] != key) continue;
                    for (int64_t slot = starts[low]; slot < starts[low + 1]; slot++) {
                        const int64_t j = order[slot];
                        if (j == i) continue;
                        double d[3] = {positions[3 * j] - xi, positions[3 * j + 1] - yi, positions[3 * j + 2] - zi};
                        double f[3];
                        for (int row = 0; row < 3; row++) {
                            const double *line = inverse + 3 * row;
                            f[row] = line[0] * d[0] + line[1] * d[1] + line[2] * d[2];
                            f[row] -= nearbyint(f[row]);
                        }
                        for (int row = 0; row < 3; row++) {
                            d[row] = matrix[3 * row] * f[0] + matrix[3 * row + 1] * f[1] + matrix[3 * row + 2] * f[2];
                        }
                        if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] >= squared) continue;
                        if (written < capacity) {
                            points[written] = (int32_t)j;
                            vectors[3 * written] = (float)d[0];
                            vectors[3 * written + 1] = (float)d[1];
                            vectors[3 * written + 2] = (float)d[2];
                        }
                        written++;
                        found++;
                    }
                }
            }
        }
        counts[i - first] = found;
    }
    return written;
}

#endif
