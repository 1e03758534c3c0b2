/*
 * conv_dnnl.c: the fast convolution path: a plan holding oneDNN 2.6 primitives (forward, backward-data,
 * backward-weights with bias) for one shape, created once and run every step without allocating.
 *
 * The primitives are created with format_tag_any, so oneDNN picks its blocked layouts (nChw16c / nCdhw16c for
 * activations, OIhw16i16o-like for weights on AVX-512). Each tensor that crosses between the caller's
 * NCHW/NCDHW arrays and a primitive is a "port": an input port reorders the caller's array into a scratch
 * buffer, an output port reorders the result back, and an accumulating port (gradients) adds it, so the caller's
 * gradient gets += as nn.h requires (nChw16c -> NCHW with our own loop, anything else with a sum reorder). A port
 * whose layout already matches uses the caller's array directly.
 *
 * Scratch: every port buffer, dbias and oneDNN's scratchpad sit at fixed offsets of one region, used only
 * during a call (the forward's buffers and the backward's overlap); the region is the plan's own block, or a
 * shared nn_workspace the plan reserved its size in. Its memory objects are pointed at the region at each call.
 * An inference plan (shape.inference) has only the forward primitive and ports; its backward ports stay unused
 * (marked direct, without memory objects).
 */
#include "nn/conv_impl.h"

#include "base/base.h"
#include "nn/nn.h"

#include <dnnl.h>
#include <stdint.h>
#include <string.h>

enum port_kind { PORT_IN, PORT_OUT, PORT_ACC };

typedef struct conv_port {
    dnnl_memory_desc_t user_md, inner_md;
    enum port_kind kind;
    bool direct;   /* the primitive reads/writes the caller's array itself */
    bool blk16;    /* an output from nChw16c / nCdhw16c into NCHW / NCDHW: our own loop, not a reorder */
    int64_t C, S;  /* its channels and positions (when blk16) */
    size_t offset; /* of the inner buffer in the scratch region (when !direct) */
    dnnl_memory_t user, inner;
    dnnl_primitive_t reorder;
} conv_port;

#define NPORTS 9

struct nn_conv_plan {
    nn_conv_shape shape;
    int threads;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t fwd_pd, bwd_data_pd, bwd_weights_pd;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    union {
        struct {
            conv_port f_src, f_wei, f_dst;   /* forward */
            conv_port d_ddst, d_wei, d_dsrc; /* backward data */
            conv_port w_src, w_ddst, w_dwei; /* backward weights */
        };
        conv_port ports[NPORTS];
    };
    bool ddst_shared;         /* w_ddst reuses d_ddst's reordered buffer */
    dnnl_memory_t bias;       /* (OC), the caller's bias */
    dnnl_memory_t dbias;      /* (OC), in the region at dbias_off */
    dnnl_memory_t scratch[3]; /* oneDNN's scratchpads of fwd, bwd_data, bwd_weights, all at scratch_off */
    size_t dbias_off, scratch_off, bytes;
    nn_workspace *ws;         /* the shared region, or NULL: */
    void *block;              /* the plan's own region */
};

#define DN(call)                                                                                               \
    do {                                                                                                       \
        dnnl_status_t dn_st_ = (call);                                                                         \
        if (dn_st_ != dnnl_success) {                                                                          \
            st = ild_fail(ILDIFF_ERR_INTERNAL, "oneDNN: %s failed (status %d)", #call, (int)dn_st_);         \
            goto fail;                                                                                         \
        }                                                                                                      \
    } while (0)

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Decides whether the port needs a buffer of its own and reserves it at *cursor. */
static void port_layout(conv_port *pt, const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *inner_md,
                        enum port_kind kind, size_t *cursor)
{
    pt->user_md = *user_md;
    pt->inner_md = *inner_md;
    pt->kind = kind;
    pt->direct = kind != PORT_ACC && dnnl_memory_desc_equal(user_md, inner_md);
    if (!pt->direct) {
        pt->offset = *cursor;
        *cursor += align64(dnnl_memory_desc_get_size(inner_md));
    }
}

/* Creates the port's memory objects (without buffers yet) and its reorder. */
static ildiff_status port_create(nn_conv_plan *p, conv_port *pt)
{
    ildiff_status st = ILDIFF_OK;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    DN(dnnl_memory_create(&pt->user, &pt->user_md, p->engine, DNNL_MEMORY_NONE));
    if (pt->direct) return ILDIFF_OK;
    DN(dnnl_memory_create(&pt->inner, &pt->inner_md, p->engine, DNNL_MEMORY_NONE));
    if (pt == &p->d_dsrc || pt == &p->f_dst) { /* activations, not weights */
        dnnl_memory_desc_t b16;
        const int nd = pt->user_md.ndims;
        DN(dnnl_memory_desc_init_by_tag(&b16, nd, pt->user_md.dims, dnnl_f32, nd == 5 ? dnnl_nCdhw16c : dnnl_nChw16c));
        pt->blk16 = dnnl_memory_desc_equal(&b16, &pt->inner_md);
        pt->C = pt->user_md.dims[1];
        pt->S = 1;
        for (int d = 2; d < nd; d++) pt->S *= pt->user_md.dims[d];
        if (pt->blk16) return ILDIFF_OK;
    }
    DN(dnnl_primitive_attr_create(&attr));
    if (pt->kind == PORT_ACC) {
        DN(dnnl_post_ops_create(&ops));
        DN(dnnl_post_ops_append_sum(ops, 1.0f));
        DN(dnnl_primitive_attr_set_post_ops(attr, ops));
    }
    if (pt->kind == PORT_IN)
        DN(dnnl_reorder_primitive_desc_create(&pd, &pt->user_md, p->engine, &pt->inner_md, p->engine, attr));
    else
        DN(dnnl_reorder_primitive_desc_create(&pd, &pt->inner_md, p->engine, &pt->user_md, p->engine, attr));
    DN(dnnl_primitive_create(&pt->reorder, pd));
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return st;
}

static void port_destroy(conv_port *pt)
{
    if (pt->reorder) dnnl_primitive_destroy(pt->reorder);
    if (pt->inner) dnnl_memory_destroy(pt->inner);
    if (pt->user) dnnl_memory_destroy(pt->user);
}

static void set_handle(dnnl_memory_t m, const void *data)
{
    ILD_ASSERT(dnnl_memory_set_data_handle(m, (void *)(uintptr_t)data) == dnnl_success);
}

static void run(nn_conv_plan *p, dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args)
{
    dnnl_status_t st = dnnl_primitive_execute(prim, p->stream, nargs, args);
    ILD_ASSERT(st == dnnl_success);
}

/* The memory a primitive uses for the port: the caller's (direct) or the scratch buffer. */
static dnnl_memory_t port_mem(const conv_port *pt) { return pt->direct ? pt->user : pt->inner; }

/* Points the port at the caller's array; an input port reorders it into its buffer (if `reorder`). */
static void port_bind(nn_conv_plan *p, conv_port *pt, const float *data, bool reorder)
{
    set_handle(pt->user, data);
    if (pt->kind == PORT_IN && pt->reorder && reorder) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, pt->user}, {DNNL_ARG_TO, pt->inner}};
        run(p, pt->reorder, 2, args);
    }
}

/* dst (N, C, S) = or += src (N, ceil(C / 16), S, 16), the nChw16c / nCdhw16c layout, in tiles of ACC_TILE
 * positions x 16 channels that stay in L1. oneDNN 2.6 has the accumulating form only as a slow generic reorder. */
#define ACC_TILE 64
static void from_blocked16(float *dst, const float *src, int64_t N, int64_t C, int64_t S, bool acc)
{
    const int64_t CB = (C + 15) / 16, tiles = (S + ACC_TILE - 1) / ACC_TILE;
#pragma omp parallel for schedule(static)
    for (int64_t task = 0; task < N * CB * tiles; task++) {
        const int64_t nb = task / tiles, s0 = task % tiles * ACC_TILE, n = nb / CB, cb = nb % CB;
        const int64_t nc = ILD_MIN(16, C - cb * 16), ns = ILD_MIN(ACC_TILE, S - s0);
        const float *x = src + (nb * S + s0) * 16;
        for (int64_t c = 0; c < nc; c++) {
            float *y = dst + (n * C + cb * 16 + c) * S + s0;
            if (acc)
                for (int64_t j = 0; j < ns; j++) y[j] += x[j * 16 + c];
            else
                for (int64_t j = 0; j < ns; j++) y[j] = x[j * 16 + c];
        }
    }
}

/* After the primitive: an output port moves (or adds) its result into the caller's array. */
static void port_finish(nn_conv_plan *p, conv_port *pt, float *data, const char *region)
{
    if (pt->blk16) {
        from_blocked16(data, (const float *)(region + pt->offset), p->shape.N, pt->C, pt->S, pt->kind == PORT_ACC);
    } else if (pt->kind != PORT_IN && pt->reorder) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, pt->inner}, {DNNL_ARG_TO, pt->user}};
        run(p, pt->reorder, 2, args);
    }
}

/* Start of a call: the plan's thread count, and every scratch memory pointed at the region. Returns the
 * region; threads_leave restores the caller's thread count. */
static char *call_enter(nn_conv_plan *p, int *old_threads)
{
    char *region = p->ws ? p->ws->data : p->block;
    ILD_ASSERT(region && (!p->ws || p->ws->size >= p->bytes)); /* nn_workspace_alloc after making the plans */
    for (int i = 0; i < NPORTS; i++)
        if (!p->ports[i].direct) set_handle(p->ports[i].inner, region + p->ports[i].offset);
    for (int i = 0; i < 3; i++)
        if (p->scratch[i]) set_handle(p->scratch[i], region + p->scratch_off);
    if (p->dbias) set_handle(p->dbias, region + p->dbias_off);
    *old_threads = nn_threads_get();
    if (*old_threads != p->threads) nn_threads_set(p->threads);
    return region;
}

static void call_leave(const nn_conv_plan *p, int old_threads)
{
    if (old_threads != p->threads) nn_threads_set(old_threads);
}

static const dnnl_memory_desc_t *query(const_dnnl_primitive_desc_t pd, dnnl_query_t what, int index)
{
    return dnnl_primitive_desc_query_md(pd, what, index);
}

/* Creates the three primitive descriptors with user scratchpads; the memory is laid out later. */
static ildiff_status plan_descs(nn_conv_plan *p, const conv_geom *g, bool is3d, const dnnl_memory_desc_t *src,
                                const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *dst)
{
    ildiff_status st = ILDIFF_OK;
    dnnl_primitive_attr_t attr = NULL;
    int nd = is3d ? 3 : 2, off = is3d ? 0 : 1;
    dnnl_dims_t strides, pad_l, pad_r;
    for (int d = 0; d < nd; d++) {
        strides[d] = g->stride[d + off];
        pad_l[d] = g->pad[d + off];
        pad_r[d] = (g->out[d + off] - 1) * g->stride[d + off] + g->k[d + off] - g->in[d + off] - g->pad[d + off];
    }
    /* "lo": what the kernels read (bf16 when asked); outputs and gradients of weights/inputs stay f32 */
    const dnnl_data_type_t lo = p->shape.bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t bias_md, src_lo, wei_lo, dst_lo, src_f32, wei_f32, dst_f32;
    dnnl_dims_t bias_dims = {g->OC};
    DN(dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_x));
    DN(dnnl_memory_desc_init_by_tag(&src_lo, src->ndims, src->dims, lo, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&wei_lo, wei->ndims, wei->dims, lo, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&dst_lo, dst->ndims, dst->dims, lo, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&src_f32, src->ndims, src->dims, dnnl_f32, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&wei_f32, wei->ndims, wei->dims, dnnl_f32, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&dst_f32, dst->ndims, dst->dims, dnnl_f32, dnnl_format_tag_any));
    const dnnl_memory_desc_t *bmd = p->shape.bias ? &bias_md : NULL;
    DN(dnnl_primitive_attr_create(&attr));
    DN(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    dnnl_convolution_desc_t fd, dd, wd;
    const dnnl_prop_kind_t prop = p->shape.inference ? dnnl_forward_inference : dnnl_forward_training;
    DN(dnnl_convolution_forward_desc_init(&fd, prop, dnnl_convolution_direct, &src_lo, &wei_lo, bmd, &dst_f32,
                                          strides, pad_l, pad_r));
    DN(dnnl_primitive_desc_create(&p->fwd_pd, &fd, attr, p->engine, NULL));
    if (!p->shape.inference) {
        DN(dnnl_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &src_f32, &wei_lo, &dst_lo,
                                                    strides, pad_l, pad_r));
        DN(dnnl_primitive_desc_create(&p->bwd_data_pd, &dd, attr, p->engine, p->fwd_pd));
        DN(dnnl_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, &src_lo, &wei_f32, bmd,
                                                       &dst_lo, strides, pad_l, pad_r));
        DN(dnnl_primitive_desc_create(&p->bwd_weights_pd, &wd, attr, p->engine, p->fwd_pd));
    }
fail:
    if (attr) dnnl_primitive_attr_destroy(attr);
    return st;
}

/* Lays out the backward ports from offset 0 (they overlap the forward's); returns the end of the backward's part. */
static size_t layout_backward(nn_conv_plan *p, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *wei,
                              const dnnl_memory_desc_t *dst)
{
    size_t bwd_end = 0;
    port_layout(&p->d_ddst, dst, query(p->bwd_data_pd, dnnl_query_diff_dst_md, 0), PORT_IN, &bwd_end);
    port_layout(&p->d_wei, wei, query(p->bwd_data_pd, dnnl_query_weights_md, 0), PORT_IN, &bwd_end);
    port_layout(&p->d_dsrc, src, query(p->bwd_data_pd, dnnl_query_diff_src_md, 0), PORT_ACC, &bwd_end);
    port_layout(&p->w_src, src, query(p->bwd_weights_pd, dnnl_query_src_md, 0), PORT_IN, &bwd_end);
    const dnnl_memory_desc_t *wdd = query(p->bwd_weights_pd, dnnl_query_diff_dst_md, 0);
    p->ddst_shared = !p->d_ddst.direct && dnnl_memory_desc_equal(wdd, &p->d_ddst.inner_md);
    size_t shared_cursor = p->d_ddst.offset;
    port_layout(&p->w_ddst, dst, wdd, PORT_IN, p->ddst_shared ? &shared_cursor : &bwd_end);
    port_layout(&p->w_dwei, wei, query(p->bwd_weights_pd, dnnl_query_diff_weights_md, 0), PORT_ACC, &bwd_end);
    p->dbias_off = bwd_end;
    return bwd_end + align64(sizeof(float) * (size_t)p->shape.OC);
}

/* Lays out every port's buffer, dbias and the scratchpad in one region, provides the region (own block or a
 * reservation in the workspace), creates the memories and reorders. */
static ildiff_status plan_memory(nn_conv_plan *p, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *wei,
                                 const dnnl_memory_desc_t *dst)
{
    ildiff_status st = ILDIFF_OK;
    size_t fwd_end = 0, bwd_end = 0, scratch = 0;
    port_layout(&p->f_src, src, query(p->fwd_pd, dnnl_query_src_md, 0), PORT_IN, &fwd_end);
    port_layout(&p->f_wei, wei, query(p->fwd_pd, dnnl_query_weights_md, 0), PORT_IN, &fwd_end);
    port_layout(&p->f_dst, dst, query(p->fwd_pd, dnnl_query_dst_md, 0), PORT_OUT, &fwd_end);
    const bool inf = p->shape.inference;
    if (inf)
        for (int i = 3; i < NPORTS; i++) p->ports[i].direct = true; /* unused */
    else
        bwd_end = layout_backward(p, src, wei, dst);
    const_dnnl_primitive_desc_t pds[3] = {p->fwd_pd, p->bwd_data_pd, p->bwd_weights_pd};
    const int npds = inf ? 1 : 3;
    for (int i = 0; i < npds; i++)
        scratch = ILD_MAX(scratch, align64(dnnl_memory_desc_get_size(query(pds[i], dnnl_query_scratchpad_md, 0))));
    p->scratch_off = ILD_MAX(fwd_end, bwd_end);
    p->bytes = p->scratch_off + scratch + 64;
    if (p->ws) {
        nn_workspace_reserve(p->ws, p->bytes);
    } else {
        p->block = aligned_alloc(64, p->bytes);
        if (!p->block) return ild_fail(ILDIFF_ERR_NOMEM, "conv plan: cannot allocate %zu bytes", p->bytes);
        memset(p->block, 0, p->bytes); /* touch every page now, not in the first step */
    }
    for (int i = 0; i < (inf ? 3 : NPORTS); i++)
        if ((st = port_create(p, &p->ports[i])) != ILDIFF_OK) return st;
    if (p->shape.bias)
        DN(dnnl_memory_create(&p->bias, query(p->fwd_pd, dnnl_query_weights_md, 1), p->engine, DNNL_MEMORY_NONE));
    if (p->shape.bias && !inf)
        DN(dnnl_memory_create(&p->dbias, query(p->bwd_weights_pd, dnnl_query_diff_weights_md, 1), p->engine,
                              DNNL_MEMORY_NONE));
    for (int i = 0; i < npds; i++)
        DN(dnnl_memory_create(&p->scratch[i], query(pds[i], dnnl_query_scratchpad_md, 0), p->engine,
                              DNNL_MEMORY_NONE));
fail:
    return st;
}

ildiff_status conv_plan_new(nn_conv_plan **out, const nn_conv_shape *s, bool is3d, nn_workspace *ws)
{
    *out = NULL;
    ildiff_status st = nn_conv_shape_check(s, is3d);
    if (st != ILDIFF_OK) return st;
    nn_conv_plan *p = calloc(1, sizeof *p);
    if (!p) return ild_fail(ILDIFF_ERR_NOMEM, "conv plan: out of memory");
    p->shape = *s;
    p->threads = nn_threads_get();
    p->ws = ws;
    conv_geom g = conv_geom_of(s, is3d);
    int nd = is3d ? 5 : 4, off = is3d ? 0 : 1;
    dnnl_dims_t sd = {g.N, g.C}, wd = {g.OC, g.C}, dd = {g.N, g.OC};
    for (int d = 0; d < nd - 2; d++) {
        sd[2 + d] = g.in[d + off];
        wd[2 + d] = g.k[d + off];
        dd[2 + d] = g.out[d + off];
    }
    dnnl_memory_desc_t src, wei, dst;
    DN(dnnl_memory_desc_init_by_tag(&src, nd, sd, dnnl_f32, is3d ? dnnl_ncdhw : dnnl_nchw));
    DN(dnnl_memory_desc_init_by_tag(&wei, nd, wd, dnnl_f32, is3d ? dnnl_oidhw : dnnl_oihw));
    DN(dnnl_memory_desc_init_by_tag(&dst, nd, dd, dnnl_f32, is3d ? dnnl_ncdhw : dnnl_nchw));
    DN(dnnl_engine_create(&p->engine, dnnl_cpu, 0));
    DN(dnnl_stream_create(&p->stream, p->engine, dnnl_stream_default_flags));
    if ((st = plan_descs(p, &g, is3d, &src, &wei, &dst)) != ILDIFF_OK) goto fail;
    if ((st = plan_memory(p, &src, &wei, &dst)) != ILDIFF_OK) goto fail;
    DN(dnnl_primitive_create(&p->fwd, p->fwd_pd));
    if (!s->inference) {
        DN(dnnl_primitive_create(&p->bwd_data, p->bwd_data_pd));
        DN(dnnl_primitive_create(&p->bwd_weights, p->bwd_weights_pd));
    }
    *out = p;
    return ILDIFF_OK;
fail:
    conv_plan_free(p);
    return st;
}

void conv_plan_free(nn_conv_plan *p)
{
    if (!p) return;
    for (int i = 0; i < NPORTS; i++) port_destroy(&p->ports[i]);
    dnnl_memory_t mems[5] = {p->bias, p->dbias, p->scratch[0], p->scratch[1], p->scratch[2]};
    for (int i = 0; i < 5; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    dnnl_primitive_t prims[3] = {p->fwd, p->bwd_data, p->bwd_weights};
    dnnl_primitive_desc_t pds[3] = {p->fwd_pd, p->bwd_data_pd, p->bwd_weights_pd};
    for (int i = 0; i < 3; i++) {
        if (prims[i]) dnnl_primitive_destroy(prims[i]);
        if (pds[i]) dnnl_primitive_desc_destroy(pds[i]);
    }
    if (p->stream) dnnl_stream_destroy(p->stream);
    if (p->engine) dnnl_engine_destroy(p->engine);
    free(p->block);
    free(p);
}

size_t conv_plan_bytes(const nn_conv_plan *p) { return p->bytes; }

void conv_plan_forward(nn_conv_plan *p, float *out, const float *inp, const float *weight, const float *bias)
{
    ILD_ASSERT(!p->shape.bias || bias);
    int old;
    char *region = call_enter(p, &old);
    port_bind(p, &p->f_src, inp, true);
    port_bind(p, &p->f_wei, weight, true);
    port_bind(p, &p->f_dst, out, false);
    if (p->shape.bias) set_handle(p->bias, bias);
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, port_mem(&p->f_src)}, {DNNL_ARG_WEIGHTS, port_mem(&p->f_wei)},
                               {DNNL_ARG_DST, port_mem(&p->f_dst)}, {DNNL_ARG_SCRATCHPAD, p->scratch[0]},
                               {DNNL_ARG_BIAS, p->bias}};
    run(p, p->fwd, p->shape.bias ? 5 : 4, args);
    port_finish(p, &p->f_dst, out, region);
    call_leave(p, old);
}

void conv_plan_backward(nn_conv_plan *p, float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight)
{
    ILD_ASSERT((!dbias || p->shape.bias) && !p->shape.inference);
    int old;
    char *region = call_enter(p, &old);
    if (dinp) {
        port_bind(p, &p->d_ddst, dout, true);
        port_bind(p, &p->d_wei, weight, true);
        port_bind(p, &p->d_dsrc, dinp, false);
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_DIFF_DST, port_mem(&p->d_ddst)},
                                   {DNNL_ARG_WEIGHTS, port_mem(&p->d_wei)},
                                   {DNNL_ARG_DIFF_SRC, port_mem(&p->d_dsrc)},
                                   {DNNL_ARG_SCRATCHPAD, p->scratch[1]}};
        run(p, p->bwd_data, 4, args);
        port_finish(p, &p->d_dsrc, dinp, region);
    }
    if (dweight || dbias) {
        port_bind(p, &p->w_src, inp, true);
        port_bind(p, &p->w_ddst, dout, !(p->ddst_shared && dinp));
        port_bind(p, &p->w_dwei, dweight, false);
        dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, port_mem(&p->w_src)},
                                   {DNNL_ARG_DIFF_DST, port_mem(&p->w_ddst)},
                                   {DNNL_ARG_DIFF_WEIGHTS, port_mem(&p->w_dwei)},
                                   {DNNL_ARG_SCRATCHPAD, p->scratch[2]},
                                   {DNNL_ARG_DIFF_BIAS, p->dbias}};
        run(p, p->bwd_weights, p->shape.bias ? 5 : 4, args);
        if (dweight) port_finish(p, &p->w_dwei, dweight, region);
        if (dbias) {
            const float *db = (const float *)(region + p->dbias_off);
            for (int64_t oc = 0; oc < p->shape.OC; oc++) dbias[oc] += db[oc];
        }
    }
    call_leave(p, old);
}
