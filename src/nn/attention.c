/* attention.c: softmax and scaled dot-product attention, fast (OpenBLAS + OpenMP) and reference (attention.h).
 * The projections around them (self- and cross-attention) are in attention_mha.c. */
#include "nn/attention.h"

#include "base/base.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- softmax ---- */

/* exp(x) for x <= 0 (softmax inputs after subtracting the row max), written so gcc -O2 vectorises it: x = n ln2 + r
 * with |r| <= ln2/2, exp(r) by Cephes' degree-7 polynomial (about 1 ulp), times 2^n built in the exponent bits.
 * Inputs below -87 are clamped (exp gives about 1e-38 instead of 0, which no softmax sum notices); the clamp is an
 * unsigned min on the bits (for x <= 0 their unsigned order is the order of |x|) because a float compare keeps
 * the loop from vectorising, and n = round(x log2(e)) by truncating x log2(e) - 0.5 (right for x <= 0) for the same
 * reason (floorf). */
static inline float exp_nonpos(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    u = u < 0xc2ae0000u ? u : 0xc2ae0000u; /* -87.0f */
    memcpy(&x, &u, 4);
    int32_t ni = (int32_t)(x * 1.44269504088896341f - 0.5f);
    float n = (float)ni;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = (ni + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

/* One row with libm's expf: the reference, and the fast path's fallback for rows holding NaN or infinity. */
static void softmax_row_exact(float *out, const float *inp, int64_t cols)
{
    float mx = -INFINITY, sum = 0.0f;
    for (int64_t j = 0; j < cols; j++) mx = fmaxf(mx, inp[j]);
    for (int64_t j = 0; j < cols; j++) sum += expf(inp[j] - mx);
    for (int64_t j = 0; j < cols; j++) out[j] = expf(inp[j] - mx) / sum;
}

/* noinline: inlined into an OpenMP region, gcc 12 no longer vectorises the simd loops */
__attribute__((noinline)) static void softmax_row(float *out, const float *inp, int64_t cols)
{
    float mx = inp[0], sum = 0.0f, nonfinite = 0.0f;
#pragma omp simd reduction(+ : nonfinite)
    for (int64_t j = 0; j < cols; j++) nonfinite += inp[j] * 0.0f; /* NaN iff some value is NaN or infinite */
    if (nonfinite != 0.0f) { /* exp_nonpos takes finite inputs only; this keeps NaN, -inf -> 0 as torch */
        softmax_row_exact(out, inp, cols);
        return;
    }
#pragma omp simd reduction(max : mx)
    for (int64_t j = 1; j < cols; j++) mx = inp[j] > mx ? inp[j] : mx;
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) out[j] = exp_nonpos(inp[j] - mx); /* out may alias inp */
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < cols; j++) sum += out[j];
    float inv = 1.0f / sum;
    for (int64_t j = 0; j < cols; j++) out[j] *= inv;
}

__attribute__((noinline)) static void softmax_row_backward(float *dinp, const float *dout, const float *out,
                                                            int64_t cols)
{
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < cols; j++) dot += dout[j] * out[j];
    for (int64_t j = 0; j < cols; j++) dinp[j] += out[j] * (dout[j] - dot);
}

void nn_softmax_forward(float *out, const float *inp, int64_t rows, int64_t cols)
{
    ILD_ASSERT(rows >= 1 && cols >= 1);
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
    for (int64_t r = 0; r < rows; r++) softmax_row(out + r * cols, inp + r * cols, cols);
}

void nn_softmax_backward(float *dinp, const float *dout, const float *out, int64_t rows, int64_t cols)
{
    ILD_ASSERT(rows >= 1 && cols >= 1);
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
    for (int64_t r = 0; r < rows; r++) softmax_row_backward(dinp + r * cols, dout + r * cols, out + r * cols, cols);
}

void nn_softmax_forward_ref(float *out, const float *inp, int64_t rows, int64_t cols)
{
    ILD_ASSERT(rows >= 1 && cols >= 1);
    for (int64_t r = 0; r < rows; r++) softmax_row_exact(out + r * cols, inp + r * cols, cols);
}

void nn_softmax_backward_ref(float *dinp, const float *dout, const float *out, int64_t rows, int64_t cols)
{
    ILD_ASSERT(rows >= 1 && cols >= 1);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < cols; i++) {
            float s = 0.0f; /* dinp_i = sum_j dout_j * d(out_j)/d(inp_i) = sum_j dout_j * out_j * (delta_ij - out_i) */
            for (int64_t j = 0; j < cols; j++)
                s += dout[r * cols + j] * out[r * cols + j] * ((i == j) - out[r * cols + i]);
            dinp[r * cols + i] += s;
        }
}

/* ---- scaled dot-product attention ---- */

static void check_sdpa(int64_t ldq, int64_t ldkv, int64_t B, int64_t Tq, int64_t Tk, int64_t NH, int64_t hd)
{
    ILD_ASSERT(B >= 1 && Tq >= 1 && Tk >= 1 && NH >= 1 && hd >= 1);
    ILD_ASSERT(ldq >= NH * hd && ldkv >= NH * hd);
    ILD_ASSERT(Tq <= INT_MAX && Tk <= INT_MAX && ldq <= INT_MAX && ldkv <= INT_MAX && NH * hd <= INT_MAX);
}

void nn_sdpa_forward(float *out, float *att, const float *q, int64_t ldq, const float *k, const float *v,
                     int64_t ldkv, int64_t B, int64_t Tq, int64_t Tk, int64_t NH, int64_t hd)
{
    check_sdpa(ldq, ldkv, B, Tq, Tk, NH, hd);
    const int64_t C = NH * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++) {
            const float *qb = q + b * Tq * ldq + h * hd;
            const float *kb = k + b * Tk * ldkv + h * hd;
            const float *vb = v + b * Tk * ldkv + h * hd;
            float *ab = att + (b * NH + h) * Tq * Tk; /* (Tq, Tk) */
            /* scores = scale * Q K^T, then the softmax in place */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Tq, (int)Tk, (int)hd, scale, qb, (int)ldq, kb,
                        (int)ldkv, 0.0f, ab, (int)Tk);
            nn_softmax_forward(ab, ab, Tq, Tk);
            /* out (Tq, hd) = P V */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Tq, (int)hd, (int)Tk, 1.0f, ab, (int)Tk, vb,
                        (int)ldkv, 0.0f, out + b * Tq * C + h * hd, (int)C);
        }
}

void nn_sdpa_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout, const float *att,
                      const float *q, int64_t ldq, const float *k, const float *v, int64_t ldkv, int64_t B,
                      int64_t Tq, int64_t Tk, int64_t NH, int64_t hd)
{
    check_sdpa(ldq, ldkv, B, Tq, Tk, NH, hd);
    const int64_t C = NH * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    float *ds = scratch; /* (Tq, Tk): dP, then dS in place */
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++) {
            const int64_t qo = b * Tq * ldq + h * hd, ko = b * Tk * ldkv + h * hd;
            const float *ab = att + (b * NH + h) * Tq * Tk;
            const float *dob = dout + b * Tq * C + h * hd;
            if (dv) /* dV (Tk, hd) += P^T dO */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Tk, (int)hd, (int)Tq, 1.0f, ab, (int)Tk,
                            dob, (int)C, 1.0f, dv + ko, (int)ldkv);
            if (!dq && !dk) continue;
            /* dP (Tq, Tk) = dO V^T; dS = P * (dP - rowsum(dP * P)) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Tq, (int)Tk, (int)hd, 1.0f, dob, (int)C,
                        v + ko, (int)ldkv, 0.0f, ds, (int)Tk);
#pragma omp parallel for schedule(static) if (Tq * Tk > 16384)
            for (int64_t i = 0; i < Tq; i++) {
                float *r = ds + i * Tk;
                const float *p = ab + i * Tk;
                float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
                for (int64_t j = 0; j < Tk; j++) dot += r[j] * p[j];
                for (int64_t j = 0; j < Tk; j++) r[j] = p[j] * (r[j] - dot);
            }
            if (dq) /* dQ (Tq, hd) += scale dS K */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Tq, (int)hd, (int)Tk, scale, ds, (int)Tk,
                            k + ko, (int)ldkv, 1.0f, dq + qo, (int)ldq);
            if (dk) /* dK (Tk, hd) += scale dS^T Q */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Tk, (int)hd, (int)Tq, scale, ds, (int)Tk,
                            q + qo, (int)ldq, 1.0f, dk + ko, (int)ldkv);
        }
}

void nn_sdpa_forward_ref(float *out, float *att, const float *q, int64_t ldq, const float *k, const float *v,
                         int64_t ldkv, int64_t B, int64_t Tq, int64_t Tk, int64_t NH, int64_t hd)
{
    check_sdpa(ldq, ldkv, B, Tq, Tk, NH, hd);
    const int64_t C = NH * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++)
            for (int64_t t = 0; t < Tq; t++) {
                const float *qt = q + (b * Tq + t) * ldq + h * hd;
                float *p = att + ((b * NH + h) * Tq + t) * Tk;
                for (int64_t s = 0; s < Tk; s++) {
                    const float *ks = k + (b * Tk + s) * ldkv + h * hd;
                    float dot = 0.0f;
                    for (int64_t i = 0; i < hd; i++) dot += qt[i] * ks[i];
                    p[s] = dot * scale;
                }
                nn_softmax_forward_ref(p, p, 1, Tk);
                float *o = out + (b * Tq + t) * C + h * hd;
                for (int64_t i = 0; i < hd; i++) {
                    float acc = 0.0f;
                    for (int64_t s = 0; s < Tk; s++) acc += p[s] * v[(b * Tk + s) * ldkv + h * hd + i];
                    o[i] = acc;
                }
            }
}

void nn_sdpa_backward_ref(float *dq, float *dk, float *dv, float *scratch, const float *dout, const float *att,
                          const float *q, int64_t ldq, const float *k, const float *v, int64_t ldkv, int64_t B,
                          int64_t Tq, int64_t Tk, int64_t NH, int64_t hd)
{
    check_sdpa(ldq, ldkv, B, Tq, Tk, NH, hd);
    const int64_t C = NH * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    float *dp = scratch; /* (Tk) for one query row */
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++)
            for (int64_t t = 0; t < Tq; t++) {
                const float *p = att + ((b * NH + h) * Tq + t) * Tk;
                const float *go = dout + (b * Tq + t) * C + h * hd;
                const float *qt = q + (b * Tq + t) * ldq + h * hd;
                float dot = 0.0f;
                for (int64_t s = 0; s < Tk; s++) {
                    const int64_t ko = (b * Tk + s) * ldkv + h * hd;
                    float acc = 0.0f;
                    for (int64_t i = 0; i < hd; i++) {
                        acc += go[i] * v[ko + i];
                        if (dv) dv[ko + i] += p[s] * go[i];
                    }
                    dp[s] = acc;
                    dot += acc * p[s];
                }
                for (int64_t s = 0; s < Tk; s++) {
                    const int64_t ko = (b * Tk + s) * ldkv + h * hd;
                    float g = p[s] * (dp[s] - dot) * scale; /* d(score) times the scale of the product */
                    for (int64_t i = 0; i < hd; i++) {
                        if (dq) dq[(b * Tq + t) * ldq + h * hd + i] += g * k[ko + i];
                        if (dk) dk[ko + i] += g * qt[i];
                    }
                }
            }
}
