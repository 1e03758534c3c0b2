/*
 * model_file.h: the ildiff model file: one safetensors file (nn/safetensors.h) holding the matting model's
 * parameters by state-dict name ("vae_encoder.*", "student.*", "temporal.*", "decoder.*", ildiff_model.h) and, in
 * its __metadata__, everything needed to rebuild it:
 *
 *   "format"          "ildiff-model"
 *   "format_version"  "1"  (ILD_MODEL_FILE_VERSION; a newer version is refused with a clear message)
 *   "config"          the ildiff_model_config as JSON:
 *                     {"vae": {"enc_widths": [..3], "dec_widths": [..4], "blocks", "latent"},
 *                      "student": {"img_size", "patch", "dim", "depth", "heads", "mlp_ratio", "out_dim"},
 *                      "temporal": {"channels", "depth", "groups", "latent"},
 *                      "decoder": {"levels", "widths": [..levels], "layers", "groups", "head_dim", "attn_levels",
 *                                  "latent_level", "latent"}}
 *
 * So `--model FILE` carries its own configuration. Loading validates the metadata and every config value (ranges
 * that keep allocation bounded, and a parameter count no larger than the file holds) before allocating, then
 * requires every parameter with its exact shape.
 */
#ifndef ILDIFF_MATTE_MODEL_FILE_H
#define ILDIFF_MATTE_MODEL_FILE_H

#include "models/ildiff_model.h"
#include "nn/safetensors.h"

#define ILD_MODEL_FILE_FORMAT "ildiff-model"
#define ILD_MODEL_FILE_VERSION 1

/* The config as JSON text (malloc'd; caller frees), or NULL when out of memory. */
char *ild_model_config_to_json(const ildiff_model_config *cfg);
/* Parses the JSON above into *cfg. ILDIFF_ERR_FORMAT naming the first missing, mistyped or out-of-range field. */
ildiff_status ild_model_config_from_json(const char *json, ildiff_model_config *cfg);

/* Writes the table's values (built by ildiff_model_build with cfg) as `dtype` (F32, F16, BF16) with the metadata
 * above, atomically. Errors as nn_st_save_params. */
ildiff_status ild_model_file_save(const char *path, const ildiff_model_config *cfg, const nn_params *p, nn_dtype dtype,
                                  bool overwrite);

/* Reads `path` (at most max_bytes), builds *m with the file's config into the fresh table *p (nn_params_init'ed
 * by the caller), allocates it and loads every parameter. ILDIFF_ERR_IO (unreadable), ILDIFF_ERR_LIMIT,
 * ILDIFF_ERR_FORMAT (not a model file, bad config, missing / unused tensor, shape mismatch), ILDIFF_ERR_UNSUPPORTED
 * (a newer format version), ILDIFF_ERR_NOMEM. On failure *m and *p are released (nn_params_free). */
ildiff_status ild_model_file_load(const char *path, int64_t max_bytes, ildiff_model *m, nn_params *p);

#endif
