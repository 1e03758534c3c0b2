/* model_file.c: the ildiff model file: safetensors with the config and format version in __metadata__
 * (model_file.h). */
#include "matte/model_file.h"

#include "base/base.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- config <-> JSON ---- */

static bool add_int(cJSON *o, const char *key, int64_t v) { return cJSON_AddNumberToObject(o, key, (double)v) != NULL; }

static bool add_ints(cJSON *o, const char *key, const int64_t *v, int n)
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    if (!a) return false;
    for (int i = 0; i < n; i++) {
        cJSON *x = cJSON_CreateNumber((double)v[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) return false;
    }
    return true;
}

char *ild_model_config_to_json(const ildiff_model_config *c)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *vae = cJSON_AddObjectToObject(root, "vae"), *st = cJSON_AddObjectToObject(root, "student");
    cJSON *tp = cJSON_AddObjectToObject(root, "temporal"), *de = cJSON_AddObjectToObject(root, "decoder");
    bool ok = root && vae && st && tp && de && add_ints(vae, "enc_widths", c->vae.enc_widths, VAE_STAGES) &&
              add_ints(vae, "dec_widths", c->vae.dec_widths, VAE_STAGES + 1) && add_int(vae, "blocks", c->vae.blocks) &&
              add_int(vae, "latent", c->vae.latent) && add_int(st, "img_size", c->student.img_size) &&
              add_int(st, "patch", c->student.patch) && add_int(st, "dim", c->student.dim) &&
              add_int(st, "depth", c->student.depth) && add_int(st, "heads", c->student.heads) &&
              add_int(st, "mlp_ratio", c->student.mlp_ratio) && add_int(st, "out_dim", c->student.out_dim) &&
              add_int(tp, "channels", c->temporal.channels) && add_int(tp, "depth", c->temporal.depth) &&
              add_int(tp, "groups", c->temporal.groups) && add_int(tp, "latent", c->temporal.latent) &&
              add_int(de, "levels", c->decoder.levels) &&
              c->decoder.levels >= 1 && c->decoder.levels <= TD_MAX_LEVELS &&
              add_ints(de, "widths", c->decoder.widths, (int)c->decoder.levels) &&
              add_int(de, "layers", c->decoder.layers) && add_int(de, "groups", c->decoder.groups) &&
              add_int(de, "head_dim", c->decoder.head_dim) && add_int(de, "attn_levels", c->decoder.attn_levels) &&
              add_int(de, "latent_level", c->decoder.latent_level) && add_int(de, "latent", c->decoder.latent);
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return s;
}

/* A whole number in [lo, hi] from x into *out; `part`.`key` names it in the error. */
static ildiff_status check_int(const cJSON *x, const char *part, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    if (!cJSON_IsNumber(x)) return ild_fail(ILDIFF_ERR_FORMAT, "model config: %s.%s is missing or not a number", part, key);
    double v = x->valuedouble;
    if (!(v >= (double)lo && v <= (double)hi) || v != (double)(int64_t)v)
        return ild_fail(ILDIFF_ERR_FORMAT, "model config: %s.%s = %g is not a whole number in %lld..%lld", part, key, v,
                        (long long)lo, (long long)hi);
    *out = (int64_t)v;
    return ILDIFF_OK;
}

static ildiff_status get_int(const cJSON *o, const char *part, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    return check_int(cJSON_GetObjectItemCaseSensitive(o, key), part, key, lo, hi, out);
}

static ildiff_status get_ints(const cJSON *o, const char *part, const char *key, int n, int64_t lo, int64_t hi,
                              int64_t *out)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return ild_fail(ILDIFF_ERR_FORMAT, "model config: %s.%s is not a list of %d numbers", part, key, n);
    for (int i = 0; i < n; i++) {
        ildiff_status st = check_int(cJSON_GetArrayItem(a, i), part, key, lo, hi, &out[i]);
        if (st != ILDIFF_OK) return st;
    }
    return ILDIFF_OK;
}

static const cJSON *get_part(const cJSON *root, const char *part)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, part);
    return cJSON_IsObject(o) ? o : NULL;
}

#define W_MAX 4096 /* widths, dims: bounded so that a hostile config cannot ask for absurd allocations */

ildiff_status ild_model_config_from_json(const char *json, ildiff_model_config *c)
{
    memset(c, 0, sizeof *c);
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return ild_fail(ILDIFF_ERR_FORMAT, "model config is not a JSON object");
    }
    const cJSON *vae = get_part(root, "vae"), *stu = get_part(root, "student"), *tp = get_part(root, "temporal"),
                *de = get_part(root, "decoder");
    ildiff_status st = ILDIFF_OK;
    if (!vae || !stu || !tp || !de)
        st = ild_fail(ILDIFF_ERR_FORMAT, "model config lacks one of the objects vae, student, temporal, decoder");
    if (st == ILDIFF_OK) st = get_ints(vae, "vae", "enc_widths", VAE_STAGES, 1, W_MAX, c->vae.enc_widths);
    if (st == ILDIFF_OK) st = get_ints(vae, "vae", "dec_widths", VAE_STAGES + 1, 1, W_MAX, c->vae.dec_widths);
    if (st == ILDIFF_OK) st = get_int(vae, "vae", "blocks", 1, VAE_MAX_BLOCKS, &c->vae.blocks);
    if (st == ILDIFF_OK) st = get_int(vae, "vae", "latent", 1, 64, &c->vae.latent);
    if (st == ILDIFF_OK) st = get_int(stu, "student", "img_size", 1, 2048, &c->student.img_size);
    if (st == ILDIFF_OK) st = get_int(stu, "student", "patch", 1, 256, &c->student.patch);
    if (st == ILDIFF_OK) st = get_int(stu, "student", "dim", 1, W_MAX, &c->student.dim);
    if (st == ILDIFF_OK) st = get_int(stu, "student", "depth", 0, STUDENT_MAX_DEPTH, &c->student.depth);
    if (st == ILDIFF_OK) st = get_int(stu, "student", "heads", 1, 256, &c->student.heads);
    if (st == ILDIFF_OK) st = get_int(stu, "student", "mlp_ratio", 1, 16, &c->student.mlp_ratio);
    if (st == ILDIFF_OK) st = get_int(stu, "student", "out_dim", 1, W_MAX, &c->student.out_dim);
    if (st == ILDIFF_OK) st = get_int(tp, "temporal", "channels", 1, W_MAX, &c->temporal.channels);
    if (st == ILDIFF_OK) st = get_int(tp, "temporal", "depth", 0, TEMPORAL_MAX_DEPTH, &c->temporal.depth);
    if (st == ILDIFF_OK) st = get_int(tp, "temporal", "groups", 1, W_MAX, &c->temporal.groups);
    if (st == ILDIFF_OK) st = get_int(tp, "temporal", "latent", 1, 64, &c->temporal.latent);
    if (st == ILDIFF_OK) st = get_int(de, "decoder", "levels", 2, TD_MAX_LEVELS, &c->decoder.levels);
    if (st == ILDIFF_OK) st = get_ints(de, "decoder", "widths", (int)c->decoder.levels, 1, W_MAX, c->decoder.widths);
    if (st == ILDIFF_OK) st = get_int(de, "decoder", "layers", 1, TD_MAX_LAYERS, &c->decoder.layers);
    if (st == ILDIFF_OK) st = get_int(de, "decoder", "groups", 1, W_MAX, &c->decoder.groups);
    if (st == ILDIFF_OK) st = get_int(de, "decoder", "head_dim", 1, W_MAX, &c->decoder.head_dim);
    if (st == ILDIFF_OK) st = get_int(de, "decoder", "attn_levels", 0, c->decoder.levels, &c->decoder.attn_levels);
    if (st == ILDIFF_OK) st = get_int(de, "decoder", "latent_level", 1, c->decoder.levels - 1, &c->decoder.latent_level);
    if (st == ILDIFF_OK) st = get_int(de, "decoder", "latent", 1, 64, &c->decoder.latent);
    cJSON_Delete(root);
    return st;
}

/* ---- the file ---- */

ildiff_status ild_model_file_save(const char *path, const ildiff_model_config *cfg, const nn_params *p, nn_dtype dtype,
                                  bool overwrite)
{
    char *json = ild_model_config_to_json(cfg);
    if (!json) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the model config");
    char version[16];
    snprintf(version, sizeof version, "%d", ILD_MODEL_FILE_VERSION);
    const char *meta[] = {"format", ILD_MODEL_FILE_FORMAT, "format_version", version, "config", json, NULL};
    ildiff_status st = nn_st_save_params(path, p, p->data, dtype, meta, overwrite);
    free(json);
    return st;
}

/* The metadata's config, checked for format and version. */
static ildiff_status read_config(const nn_st_file *f, ildiff_model_config *cfg)
{
    const char *format = nn_st_metadata(f, "format"), *version = nn_st_metadata(f, "format_version");
    const char *json = nn_st_metadata(f, "config");
    if (!format || strcmp(format, ILD_MODEL_FILE_FORMAT) != 0)
        return ild_fail(ILDIFF_ERR_FORMAT, "not an ildiff model file (its metadata lacks format \"%s\")",
                        ILD_MODEL_FILE_FORMAT);
    char *end = NULL;
    long v = version ? strtol(version, &end, 10) : 0;
    if (!version || end == version || *end || v < 1)
        return ild_fail(ILDIFF_ERR_FORMAT, "ildiff model file without a valid format_version");
    if (v > ILD_MODEL_FILE_VERSION)
        return ild_fail(ILDIFF_ERR_UNSUPPORTED, "model file format version %ld is newer than this ildiff reads (%d)", v,
                        ILD_MODEL_FILE_VERSION);
    if (!json) return ild_fail(ILDIFF_ERR_FORMAT, "ildiff model file without a config in its metadata");
    return ild_model_config_from_json(json, cfg);
}

ildiff_status ild_model_file_load(const char *path, int64_t max_bytes, ildiff_model *m, nn_params *p)
{
    memset(m, 0, sizeof *m);
    nn_st_file *f = NULL;
    ildiff_status st = nn_st_read(path, max_bytes, &f);
    if (st != ILDIFF_OK) return st;
    ildiff_model_config cfg;
    st = read_config(f, &cfg);
    if (st == ILDIFF_OK) st = ildiff_model_build(m, &cfg, p);
    if (st == ILDIFF_OK) {
        size_t held = 0;
        for (int i = 0; i < nn_st_count(f); i++) held += nn_st_get(f, i)->numel;
        if (nn_params_numel(p) > held)
            st = ild_fail(ILDIFF_ERR_FORMAT, "model file holds %zu values, its config needs %zu", held,
                          nn_params_numel(p));
    }
    if (st == ILDIFF_OK) st = nn_params_alloc(p);
    if (st == ILDIFF_OK) st = nn_st_load_params(p, f, 0);
    nn_st_free(f);
    if (st != ILDIFF_OK) {
        ildiff_model_free(m);
        nn_params_free(p);
    }
    return st;
}
