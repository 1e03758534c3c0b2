/*
 * cli_model.c: `ildiff model pack` and `ildiff model info`.
 *
 * pack turns the weights a training run leaves (`ildiff train`'s model.safetensors, which carry every part the
 * stage used, frozen ones included, and the training settings in their metadata) into a model file that
 * `ildiff matte --model` reads (matte/model_file.h): only the matting path (vae_encoder., student., temporal.,
 * decoder.), the model's configuration in the metadata, stored as F16 by default (half the bytes; the rounding
 * moved the 8-bit alpha of the CI floor clips by 0.005 levels on average, 3 levels at most, PSNR by 1e-4 dB:
 * models/README.md).
 *
 *   ildiff model pack --from runs/S3-d5/model.safetensors -o models/ildiff-default.safetensors
 *   ildiff model pack --from runs/S1/model.safetensors --from runs/S2b/model.safetensors --no-adapter -o ld.safetensors
 *
 * The sizes are the default model's, or the tests' tiny ones when the first run was trained with --tiny. Each tensor is
 * taken from the first --from file that has it. Every parameter must be found, except with
 * --no-adapter (the paper's Layer Diffusion row): temporal depth 0 with its output conv zero, so the adapter adds
 * nothing to the latent; parameters of the student found nowhere keep their initial values (they cannot reach
 * the output).
 */
#include "cli.h"
#include "matte/model_file.h"
#include "train/stage_util.h"

#include <cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { FROM_MAX = 8 };

static void print_help(void)
{
    printf("Usage: ildiff model pack --from FILE [--from FILE...] -o OUT [options]\n"
           "       ildiff model info FILE\n\n"
           "pack: makes a model file for 'ildiff matte --model' from the weights of training runs (their\n"
           "model.safetensors): only the matting path, with its configuration. Each tensor comes from the first\n"
           "--from file that has it.\n"
           "  --from FILE      a training run's weights (repeatable, at most %d)\n"
           "  -o, --output OUT the model file to write\n"
           "  --depth N        temporal adapter depth 0, 3, 5 or 8 (default: the run's own, from its metadata)\n"
           "  --no-adapter     the Layer Diffusion row: no layout adapter (depth 0, its output conv zero)\n"
           "  --dtype NAME     f16 (default), bf16 or f32\n"
           "  -y, --overwrite  replace OUT if it exists\n"
           "info: prints a model file's configuration and its parameter count per part.\n",
           FROM_MAX);
}

/* A number of the task settings `ildiff train` records in a run's metadata (config.task.KEY), or `dflt`. */
static double run_setting(const nn_st_file *f, const char *key, double dflt)
{
    const char *json = nn_st_metadata(f, "config");
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "task"), key);
    double out = cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? 1 : 0) : dflt;
    cJSON_Delete(root);
    return out;
}

static bool valid_depth(long long d) { return d == 0 || d == 3 || d == 5 || d == 8; }

static int pack(const char *const *from, int n_from, const char *out, long long depth, bool no_adapter, nn_dtype dtype,
                bool overwrite)
{
    nn_st_file *files[FROM_MAX] = {0};
    int rc = CLI_OK;
    for (int i = 0; i < n_from && rc == CLI_OK; i++) {
        ildiff_status st = nn_st_read(from[i], (int64_t)1 << 34, &files[i]);
        if (st != ILDIFF_OK) rc = cli_status_error(from[i], st);
    }
    if (rc == CLI_OK && no_adapter) depth = 0;
    for (int i = 0; rc == CLI_OK && depth < 0 && i < n_from; i++) depth = (long long)run_setting(files[i], "depth", -1);
    bool tiny = rc == CLI_OK && run_setting(files[0], "tiny", 0) != 0; /* the tests' tiny sizes (--tiny runs) */
    if (rc == CLI_OK && !valid_depth(depth))
        rc = cli_error(from[0], "no temporal depth in its metadata (not an S3 run?): give --depth or --no-adapter");

    ildiff_model_config cfg = ild_stage_model_config(tiny);
    cfg.temporal.depth = depth;
    ildiff_model m = {0};
    nn_params p;
    nn_params_init(&p);
    ildiff_status st = ILDIFF_OK;
    if (rc == CLI_OK && ((st = ildiff_model_build(&m, &cfg, &p)) != ILDIFF_OK || (st = nn_params_alloc(&p)) != ILDIFF_OK))
        rc = cli_status_error(NULL, st);
    if (rc == CLI_OK) ildiff_model_init(&m, &p, 1);
    /* each parameter from the first file that has it */
    for (int k = 0; rc == CLI_OK && k < p.count; k++) {
        const nn_param *q = &p.items[k];
        const nn_st_tensor *t = NULL;
        int i = 0;
        for (; i < n_from && !t; i++) t = nn_st_find(files[i], q->name);
        bool optional = no_adapter && (strncmp(q->name, "student.", 8) == 0 || strncmp(q->name, "temporal.", 9) == 0);
        if (!t) {
            if (!optional) rc = cli_error(from[0], "no --from file has %s (give the run that trained it)", q->name);
            continue;
        }
        if (no_adapter && strncmp(q->name, "temporal.", 9) == 0) continue; /* the zero output conv stays */
        bool same = t->ndim == q->ndim;
        for (int d = 0; same && d < q->ndim; d++) same = t->shape[d] == q->shape[d];
        if (!same) rc = cli_error(from[i - 1], "%s has another shape than the model's (%s sizes)", q->name,
                                  tiny ? "tiny" : "default");
        else if ((st = nn_st_to_f32(t, p.data + q->offset, q->numel)) != ILDIFF_OK)
            rc = cli_status_error(from[i - 1], st);
    }
    if (rc == CLI_OK && (st = ild_model_file_save(out, &cfg, &p, dtype, overwrite)) != ILDIFF_OK)
        rc = cli_status_error(out, st);
    size_t numel = 0;
    for (int k = 0; k < p.count; k++) numel += p.items[k].numel;
    if (rc == CLI_OK) printf("%s: %zu parameters, temporal depth %lld%s\n", out, numel, depth,
                             no_adapter ? " (no adapter)" : "");
    ildiff_model_free(&m);
    nn_params_free(&p);
    for (int i = 0; i < n_from; i++) nn_st_free(files[i]);
    return rc;
}

static int info(const char *path)
{
    ildiff_model m = {0};
    nn_params p;
    nn_params_init(&p);
    ildiff_status st = ild_model_file_load(path, (int64_t)1 << 34, &m, &p);
    if (st != ILDIFF_OK) return cli_status_error(path, st);
    static const char *parts[] = {"vae_encoder.", "student.", "temporal.", "decoder."};
    size_t count[4] = {0}, all = 0;
    for (int k = 0; k < p.count; k++) {
        all += p.items[k].numel;
        for (int i = 0; i < 4; i++)
            if (strncmp(p.items[k].name, parts[i], strlen(parts[i])) == 0) count[i] += p.items[k].numel;
    }
    char *json = ild_model_config_to_json(&m.cfg);
    printf("%s\n  config      %s\n  parameters  %zu\n", path, json ? json : "?", all);
    for (int i = 0; i < 4; i++) printf("    %-13s %zu\n", parts[i], count[i]);
    free(json);
    ildiff_model_free(&m);
    nn_params_free(&p);
    return CLI_OK;
}

int cli_model(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2) return cli_usage_error("model", "give a subcommand: pack or info");
        print_help();
        return CLI_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "info") == 0) {
        if (argc == 3 && strcmp(argv[2], "--help") != 0 && strcmp(argv[2], "-h") != 0) return info(argv[2]);
        if (argc == 3) {
            print_help();
            return CLI_OK;
        }
        return cli_usage_error("model", "info takes one model file");
    }
    if (strcmp(sub, "pack") != 0) return cli_usage_error("model", "unknown subcommand '%s' (pack or info)", sub);

    enum { OPT_FROM = 256, OPT_DEPTH, OPT_NO_ADAPTER, OPT_DTYPE };
    static const struct option long_opts[] = {
        {"from", required_argument, NULL, OPT_FROM},     {"output", required_argument, NULL, 'o'},
        {"depth", required_argument, NULL, OPT_DEPTH},   {"no-adapter", no_argument, NULL, OPT_NO_ADAPTER},
        {"dtype", required_argument, NULL, OPT_DTYPE},   {"overwrite", no_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0}};
    const char *from[FROM_MAX], *out = NULL;
    int n_from = 0;
    long long depth = -1;
    bool no_adapter = false, overwrite = false;
    nn_dtype dtype = NN_DTYPE_F16;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "o:yh", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_FROM:
            if (n_from == FROM_MAX) return cli_usage_error("model", "at most %d --from files", FROM_MAX);
            from[n_from++] = optarg;
            break;
        case 'o': out = optarg; break;
        case OPT_DEPTH:
            if (!cli_parse_int(optarg, 0, 8, &depth) || !valid_depth(depth))
                return cli_usage_error("model", "--depth must be 0, 3, 5 or 8");
            break;
        case OPT_NO_ADAPTER: no_adapter = true; break;
        case OPT_DTYPE:
            if (strcmp(optarg, "f16") == 0) dtype = NN_DTYPE_F16;
            else if (strcmp(optarg, "bf16") == 0) dtype = NN_DTYPE_BF16;
            else if (strcmp(optarg, "f32") == 0) dtype = NN_DTYPE_F32;
            else return cli_usage_error("model", "--dtype must be f16, bf16 or f32");
            break;
        case 'y': overwrite = true; break;
        case 'h': print_help(); return CLI_OK;
        default: return cli_usage_error("model", "'%s' is not an option, or needs a value", argv[optind < argc ? optind : argc - 1]);
        }
    }
    if (optind < argc - 1) return cli_usage_error("model", "unexpected argument '%s'", argv[optind + 1]);
    if (n_from == 0 || !out) return cli_usage_error("model", "pack needs --from FILE and -o OUT");
    if (no_adapter && depth >= 0) return cli_usage_error("model", "--no-adapter and --depth exclude each other");
    for (int i = 0; i < n_from; i++)
        if (strcmp(from[i], out) == 0) return cli_error(out, "is also a --from file: it would be overwritten");
    return pack(from, n_from, out, depth, no_adapter, dtype, overwrite);
}
