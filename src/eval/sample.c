/*
 * sample.c: loads exchange-form samples (layout and meta.json in sample.h). Frames are read one PNG at a time with
 * ildiff_anim_read, so the names of input/, gt_alpha/ and a prediction folder are matched file by file.
 */
#include "sample.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define META_MAX_BYTES (1 << 20)

char *ild_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (!s) return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

void ild_names_free(char **names, int count)
{
    for (int i = 0; names && i < count; i++) free(names[i]);
    free(names);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Entries of `dir` accepted by keep(dir, name), sorted. */
static ildiff_status list_dir(const char *dir, bool (*keep)(const char *dir, const char *name), char ***names,
                              int *count)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return ild_fail(ILDIFF_ERR_IO, "%s: cannot open folder", dir);
    char **list = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !keep(dir, e->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(list, sizeof *list * (size_t)cap);
            if (!grown) goto nomem;
            list = grown;
        }
        if (!(list[n] = strdup(e->d_name))) goto nomem;
        n++;
    }
    closedir(d);
    if (n) qsort(list, (size_t)n, sizeof *list, cmp_names);
    *names = list;
    *count = n;
    return ILDIFF_OK;
nomem:
    closedir(d);
    ild_names_free(list, n);
    return ild_fail(ILDIFF_ERR_NOMEM, "%s: out of memory listing the folder", dir);
}

static bool keep_png(const char *dir, const char *name)
{
    size_t len = strlen(name);
    return len > 4 && strcasecmp(name + len - 4, ".png") == 0;
}

static bool keep_sample(const char *dir, const char *name)
{
    char *sample = ild_path_join(dir, name), *input = sample ? ild_path_join(sample, "input") : NULL;
    bool ok = input && is_dir(input);
    free(sample);
    free(input);
    return ok;
}

ildiff_status ild_png_names(const char *dir, char ***names, int *count)
{
    ildiff_status st = list_dir(dir, keep_png, names, count);
    if (st == ILDIFF_OK && *count == 0) return ild_fail(ILDIFF_ERR_FORMAT, "%s: no PNG frames", dir);
    return st;
}

ildiff_status ild_samples_list(const char *dir, char ***names, int *count)
{
    ildiff_status st = list_dir(dir, keep_sample, names, count);
    if (st == ILDIFF_OK && *count == 0)
        return ild_fail(ILDIFF_ERR_FORMAT, "%s: no samples (folders holding input/)", dir);
    return st;
}

/* ild_fail with the path in front of the reason the reader left. */
static ildiff_status fail_at(ildiff_status st, const char *path)
{
    char why[512];
    snprintf(why, sizeof why, "%s", ildiff_last_error());
    return ild_fail(st, "%s: %s", path, why);
}

/* Reads one PNG file into a one-frame animation of size w x h (w = 0: any size). */
static ildiff_status read_png(const char *dir, const char *name, int32_t w, int32_t h, const ildiff_limits *limits,
                              ildiff_anim **out)
{
    *out = NULL;
    char *path = ild_path_join(dir, name);
    if (!path) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    ildiff_status st = ildiff_anim_read(path, limits, out);
    if (st != ILDIFF_OK) {
        st = fail_at(st, path);
    } else if ((*out)->frame_count != 1) {
        st = ild_fail(ILDIFF_ERR_FORMAT, "%s: %d frames, but a frame file must be a still PNG", path,
                      (*out)->frame_count);
        ildiff_anim_free(*out);
        *out = NULL;
    } else if (w && ((*out)->width != w || (*out)->height != h)) {
        st = ild_fail(ILDIFF_ERR_FORMAT, "%s: %dx%d, but the sample's frames are %dx%d", path, (*out)->width,
                      (*out)->height, w, h);
        ildiff_anim_free(*out);
        *out = NULL;
    }
    free(path);
    return st;
}

ildiff_status ild_read_alpha_frames(const char *dir, char *const *names, int32_t frames, int32_t w, int32_t h,
                                    const ildiff_limits *limits, float *alpha, uint8_t *rgb, bool *has_alpha)
{
    size_t n = (size_t)w * (size_t)h;
    bool all_alpha = true;
    for (int32_t f = 0; f < frames; f++) {
        ildiff_anim *a;
        ildiff_status st = read_png(dir, names[f], w, h, limits, &a);
        if (st != ILDIFF_OK) return st;
        const uint8_t *px = ildiff_anim_frame(a, 0);
        int ch = a->source_has_alpha ? 3 : 0;
        all_alpha = all_alpha && a->source_has_alpha;
        for (size_t i = 0; i < n; i++) {
            alpha[(size_t)f * n + i] = (float)px[i * 4 + ch] / 255.0f;
            if (rgb)
                for (int c = 0; c < 3; c++) rgb[((size_t)f * n + i) * 3 + c] = px[i * 4 + c];
        }
        ildiff_anim_free(a);
    }
    if (has_alpha) *has_alpha = all_alpha;
    return ILDIFF_OK;
}

void ild_sample_free(ild_sample *s)
{
    if (!s) return;
    free(s->name);
    ild_names_free(s->frame_names, s->frames);
    free(s->input_rgb);
    free(s->gt);
    free(s->gt_rgba);
    free(s->bg_rgb);
    ild_names_free(s->tags, s->tag_count);
    free(s);
}

static ildiff_status add_tag(ild_sample *s, const char *a, const char *b)
{
    char **grown = realloc(s->tags, sizeof *grown * (size_t)(s->tag_count + 1));
    if (!grown) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for tags");
    s->tags = grown;
    size_t len = strlen(a) + (b ? strlen(b) + 1 : 0) + 1;
    char *t = malloc(len);
    if (!t) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for tags");
    snprintf(t, len, b ? "%s=%s" : "%s", a, b);
    s->tags[s->tag_count++] = t;
    return ILDIFF_OK;
}

/* A colour from "#RRGGBB" or [r, g, b]; false if it is neither. */
static bool json_colour(const cJSON *v, uint8_t rgb[3])
{
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring + (v->valuestring[0] == '#');
        if (strlen(s) != 6 || strspn(s, "0123456789abcdefABCDEF") != 6) return false;
        unsigned long x = strtoul(s, NULL, 16);
        rgb[0] = (uint8_t)(x >> 16), rgb[1] = (uint8_t)(x >> 8), rgb[2] = (uint8_t)x;
        return true;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3) return false;
    for (int c = 0; c < 3; c++) {
        const cJSON *e = cJSON_GetArrayItem(v, c);
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 255) return false;
        rgb[c] = (uint8_t)e->valuedouble;
    }
    return true;
}

static ildiff_status parse_meta(ild_sample *s, const char *path, const char *text, bool *has_colour, uint8_t rgb[3])
{
    cJSON *root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return ild_fail(ILDIFF_ERR_FORMAT, "%s: %s", path, root ? "not a JSON object" : "not valid JSON");
    }
    ildiff_status st = ILDIFF_OK;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(root, "tags"), *e;
    cJSON_ArrayForEach(e, tags)
    {
        if (st != ILDIFF_OK) break;
        if (cJSON_IsArray(tags) && cJSON_IsString(e)) st = add_tag(s, e->valuestring, NULL);
        else if (cJSON_IsObject(tags) && cJSON_IsTrue(e)) st = add_tag(s, e->string, NULL);
        else if (cJSON_IsObject(tags) && cJSON_IsString(e)) st = add_tag(s, e->string, e->valuestring);
    }
    const cJSON *bg = cJSON_GetObjectItemCaseSensitive(root, "background");
    const cJSON *kind = cJSON_IsObject(bg) ? cJSON_GetObjectItemCaseSensitive(bg, "kind") : bg;
    const cJSON *colour = bg;
    if (cJSON_IsObject(bg)) {
        colour = cJSON_GetObjectItemCaseSensitive(bg, "color");
        if (!colour) colour = cJSON_GetObjectItemCaseSensitive(bg, "colour");
    }
    *has_colour = colour && json_colour(colour, rgb);
    if (st == ILDIFF_OK && cJSON_IsString(kind) && !(kind == colour && *has_colour))
        st = add_tag(s, "background", kind->valuestring);
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(root, "split");
    s->is_test = cJSON_IsString(split) && strcmp(split->valuestring, "test") == 0;
    cJSON_Delete(root);
    return st;
}

static ildiff_status load_meta(ild_sample *s, const char *dir)
{
    char *path = ild_path_join(dir, "meta.json");
    if (!path) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    struct stat stt;
    if (stat(path, &stt) != 0) {
        free(path);
        return ILDIFF_OK;
    }
    uint8_t *data = NULL;
    size_t size;
    ildiff_status st = ildiff_read_file(path, META_MAX_BYTES, &data, &size);
    char *text = st == ILDIFF_OK ? malloc(size + 1) : NULL;
    if (st != ILDIFF_OK) {
        st = fail_at(st, path);
    } else if (!text) {
        st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    } else {
        memcpy(text, data, size);
        text[size] = 0;
        bool has_colour = false;
        uint8_t rgb[3];
        st = parse_meta(s, path, text, &has_colour, rgb);
        if (st == ILDIFF_OK && has_colour && !s->bg_rgb) {
            size_t n = (size_t)s->width * (size_t)s->height;
            if (!(s->bg_rgb = malloc(n * 3))) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
            for (size_t i = 0; s->bg_rgb && i < n; i++) memcpy(s->bg_rgb + i * 3, rgb, 3);
        }
    }
    free(text);
    free(data);
    free(path);
    return st;
}

/* Input frames: sets the size from the first one and checks it against the limits. */
static ildiff_status load_input(ild_sample *s, const char *dir, const ildiff_limits *limits)
{
    for (int32_t f = 0; f < s->frames; f++) {
        ildiff_anim *a;
        ildiff_status st = read_png(dir, s->frame_names[f], s->width, s->height, limits, &a);
        if (st != ILDIFF_OK) return st;
        if (f == 0) {
            s->width = a->width;
            s->height = a->height;
            size_t bytes;
            st = ild_check_dims(limits, s->width, s->height, s->frames);
            if (st == ILDIFF_OK && (!ild_mul_size4(&bytes, (size_t)s->frames, (size_t)s->width, (size_t)s->height, 3) ||
                                    !(s->input_rgb = malloc(bytes))))
                st = ild_fail(ILDIFF_ERR_NOMEM, "%s: out of memory for %d frames", dir, s->frames);
            if (st != ILDIFF_OK) {
                ildiff_anim_free(a);
                return st;
            }
        }
        size_t n = (size_t)s->width * (size_t)s->height;
        const uint8_t *px = ildiff_anim_frame(a, 0);
        for (size_t i = 0; i < n; i++) memcpy(s->input_rgb + ((size_t)f * n + i) * 3, px + i * 4, 3);
        ildiff_anim_free(a);
    }
    return ILDIFF_OK;
}

static ildiff_status load_parts(ild_sample *s, const char *dir, const ildiff_limits *limits)
{
    char *input = ild_path_join(dir, "input"), *gt = ild_path_join(dir, "gt_alpha");
    char *rgba = ild_path_join(dir, "gt_rgba");
    ildiff_status st = input && gt && rgba ? ILDIFF_OK : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    int count = 0;
    if (st == ILDIFF_OK) st = ild_png_names(input, &s->frame_names, &count);
    s->frames = count;
    const ildiff_limits *lim = ild_limits_or_default(limits);
    if (st == ILDIFF_OK && count > lim->max_frames)
        st = ild_fail(ILDIFF_ERR_LIMIT, "%s: %d frames exceeds limit %d", input, count, lim->max_frames);
    if (st == ILDIFF_OK) st = load_input(s, input, limits);
    size_t n = (size_t)s->width * (size_t)s->height * (size_t)s->frames;
    if (st == ILDIFF_OK && !(s->gt = malloc(n * sizeof *s->gt))) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (st == ILDIFF_OK)
        st = ild_read_alpha_frames(gt, s->frame_names, s->frames, s->width, s->height, limits, s->gt, NULL, NULL);
    if (st == ILDIFF_OK && is_dir(rgba)) {
        if (!(s->gt_rgba = malloc(n * 4))) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        for (int32_t f = 0; st == ILDIFF_OK && f < s->frames; f++) {
            ildiff_anim *a;
            st = read_png(rgba, s->frame_names[f], s->width, s->height, limits, &a);
            if (st != ILDIFF_OK) break;
            size_t plane = (size_t)s->width * (size_t)s->height * 4;
            memcpy(s->gt_rgba + (size_t)f * plane, ildiff_anim_frame(a, 0), plane);
            ildiff_anim_free(a);
        }
    }
    free(input);
    free(gt);
    free(rgba);
    return st;
}

static ildiff_status load_bg(ild_sample *s, const char *dir, const ildiff_limits *limits)
{
    char *path = ild_path_join(dir, "bg.png");
    if (!path) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    struct stat stt;
    bool present = stat(path, &stt) == 0;
    free(path);
    if (!present) return ILDIFF_OK;
    ildiff_anim *a;
    ildiff_status st = read_png(dir, "bg.png", s->width, s->height, limits, &a);
    if (st != ILDIFF_OK) return st;
    size_t n = (size_t)s->width * (size_t)s->height;
    if (!(s->bg_rgb = malloc(n * 3))) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; s->bg_rgb && i < n; i++) memcpy(s->bg_rgb + i * 3, ildiff_anim_frame(a, 0) + i * 4, 3);
    ildiff_anim_free(a);
    return st;
}

ildiff_status ild_sample_load(const char *set_dir, const char *name, const ildiff_limits *limits, ild_sample **out)
{
    *out = NULL;
    ild_sample *s = calloc(1, sizeof *s);
    char *dir = ild_path_join(set_dir, name);
    if (!s || !dir || !(s->name = strdup(name))) {
        free(dir);
        ild_sample_free(s);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    }
    ildiff_status st = load_parts(s, dir, limits);
    if (st == ILDIFF_OK) st = load_bg(s, dir, limits);
    if (st == ILDIFF_OK) st = load_meta(s, dir);
    free(dir);
    if (st != ILDIFF_OK) {
        ild_sample_free(s);
        return st;
    }
    *out = s;
    return ILDIFF_OK;
}
