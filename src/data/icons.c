/*
 * icons.c: loads Iconify JSON icon sets (the corpus's source art) and assigns each icon to a split.
 *
 * An Iconify file: {"prefix", "icons": {name: {"body", "width"?, "height"?, "left"?, "top"?}}, "width", "height",
 * "info"?: {"name", "license": {"title", "spdx", "url"}, "author": {"name", "url"}}, "chars"?: {hex: name}}.
 * A file named icons.json also reads info.json, chars.json and metadata.json beside it (the npm package layout).
 * Kept: icons with a body that splits into parts and whose name is not a flag, keycap, skin-tone variant or
 * letter. Icons are kept in name order, so a set's content does not depend on JSON key order.
 */
#include "dataset.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#define SOURCE_MAX_BYTES ((int64_t)256 << 20)

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double json_num(const cJSON *o, const char *key, double fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

/* Reads and parses a JSON file; NULL without error when `optional` and the file is missing. */
static ildiff_status read_json(const char *path, bool optional, cJSON **out)
{
    *out = NULL;
    uint8_t *data = NULL;
    size_t size = 0;
    struct stat sb;
    if (optional && stat(path, &sb) != 0) return ILDIFF_OK;
    ildiff_status st = ildiff_read_file(path, SOURCE_MAX_BYTES, &data, &size);
    if (st != ILDIFF_OK) return ild_fail_in(st, path);
    *out = cJSON_ParseWithLength((const char *)data, size);
    free(data);
    if (!*out || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return ild_fail(ILDIFF_ERR_FORMAT, "%s: not a JSON object", path);
    }
    return ILDIFF_OK;
}

static bool skipped_name(const char *n)
{
    static const char *const bad[] = {"flag", "-tone", "keycap", "regional-indicator", "button", "letter", "digit",
                                      "-sign", "arrow", "symbol", "square", "circled", "zodiac", "minus", "plus",
                                      "divide", "multiply", "heavy-"};
    static const char *const tone_suffix[] = {"-light", "-medium", "-dark"}; /* fluent's skin-tone variants */
    size_t len = strlen(n);
    if (len < 3) return true;
    for (size_t i = 0; i < 3; i++) {
        size_t k = strlen(tone_suffix[i]);
        if (len > k && strcmp(n + len - k, tone_suffix[i]) == 0) return true;
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strstr(n, bad[i])) return true;
    return false;
}

static int cmp_icon(const void *a, const void *b) { return strcmp(((const ild_icon *)a)->name, ((const ild_icon *)b)->name); }

static void set_free(ild_icon_set *s)
{
    for (int32_t i = 0; i < s->count; i++) {
        free(s->icons[i].name);
        free(s->icons[i].body);
        free(s->icons[i].name_zh);
    }
    free(s->icons);
    free(s->prefix);
    free(s->title);
    free(s->license);
    free(s->license_url);
    free(s->license_spdx);
    free(s->author);
    free(s->author_url);
    free(s->version);
    memset(s, 0, sizeof *s);
}

/* The hex codepoint sequence of each icon name, from a chars map {hex: name}. */
static const char *chars_lookup(const cJSON *chars, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, chars) if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0) return it->string;
    return NULL;
}

static ildiff_status load_set(const char *path, const ild_cldr *cldr, ild_icon_set *set)
{
    memset(set, 0, sizeof *set);
    cJSON *root = NULL, *info = NULL, *chars_file = NULL;
    ildiff_status st = read_json(path, false, &root);
    const char *base = strrchr(path, '/');
    bool package = strcmp(base ? base + 1 : path, "icons.json") == 0;
    char dir[4096], side[4200];
    snprintf(dir, sizeof dir, "%.*s", base ? (int)(base - path) : 1, base ? path : ".");
    if (st == ILDIFF_OK && package) {
        snprintf(side, sizeof side, "%s/info.json", dir);
        st = read_json(side, true, &info);
        snprintf(side, sizeof side, "%s/chars.json", dir);
        if (st == ILDIFF_OK) st = read_json(side, true, &chars_file);
    }
    if (st != ILDIFF_OK) goto done;
    const cJSON *inf = info ? info : cJSON_GetObjectItemCaseSensitive(root, "info");
    const cJSON *chars = chars_file ? chars_file : cJSON_GetObjectItemCaseSensitive(root, "chars");
    const cJSON *lic = cJSON_GetObjectItemCaseSensitive(inf, "license");
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(inf, "author");
    const cJSON *icons = cJSON_GetObjectItemCaseSensitive(root, "icons");
    if (!cJSON_IsObject(icons) || !json_str(root, "prefix")) {
        st = ild_fail(ILDIFF_ERR_FORMAT, "%s: not an Iconify icon set (no prefix or icons)", path);
        goto done;
    }
    set->prefix = dup_or_empty(json_str(root, "prefix"));
    set->title = dup_or_empty(json_str(inf, "name"));
    set->license = dup_or_empty(json_str(lic, "title"));
    set->license_spdx = dup_or_empty(json_str(lic, "spdx"));
    set->license_url = dup_or_empty(json_str(lic, "url"));
    set->author = dup_or_empty(json_str(auth, "name"));
    set->author_url = dup_or_empty(json_str(auth, "url"));
    /* the package version: the name of the tarball beside icons.json, if any */
    set->version = NULL;
    if (package) {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (strstr(e->d_name, ".tgz") && !set->version) set->version = strdup(e->d_name);
        if (d) closedir(d);
    }
    if (!set->version) set->version = strdup("local");
    double dw = json_num(root, "width", 16), dh = json_num(root, "height", 16);
    int n = cJSON_GetArraySize(icons);
    set->icons = calloc((size_t)(n > 0 ? n : 1), sizeof *set->icons);
    if (!set->icons || !set->prefix || !set->version) {
        st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory loading %s", path);
        goto done;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, icons)
    {
        const char *body = json_str(it, "body");
        if (!body || !it->string || skipped_name(it->string) || json_num(it, "hidden", 0)) continue;
        ild_icon ic = {.left = (float)json_num(it, "left", 0), .top = (float)json_num(it, "top", 0),
                       .width = (float)json_num(it, "width", dw), .height = (float)json_num(it, "height", dh)};
        if (!(ic.width > 0 && ic.height > 0 && ic.width < 1e5 && ic.height < 1e5)) continue;
        ild_svg_parts parts;
        if (ild_svg_parts_split(body, &parts) != ILDIFF_OK) continue;
        ild_svg_parts_free(&parts);
        const char *hex = chars_lookup(chars, it->string);
        const char *zh = hex ? ild_cldr_lookup(cldr, hex) : NULL;
        ic.name = strdup(it->string);
        ic.body = strdup(body);
        ic.name_zh = zh ? strdup(zh) : NULL;
        set->icons[set->count++] = ic;
        if (!ic.name || !ic.body || (zh && !ic.name_zh)) {
            st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory loading %s", path);
            goto done;
        }
    }
    qsort(set->icons, (size_t)set->count, sizeof *set->icons, cmp_icon);
done:
    cJSON_Delete(root);
    cJSON_Delete(info);
    cJSON_Delete(chars_file);
    if (st != ILDIFF_OK) set_free(set);
    return st;
}

void ild_sources_free(ild_sources *src)
{
    if (!src) return;
    for (int32_t i = 0; i < src->set_count; i++) set_free(&src->sets[i]);
    free(src->sets);
    for (int s = 0; s < ILD_SPLIT_COUNT; s++) free(src->split_icons[s]);
    free(src);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Expands a directory into its <sub>/icons.json files (sorted), or returns the path itself. */
static ildiff_status expand_path(const char *path, char ***list, int *n)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return ild_fail(ILDIFF_ERR_IO, "%s: no such file or directory (run scripts/fetch_sources.sh?)", path);
    if (!S_ISDIR(sb.st_mode)) {
        char **l = realloc(*list, (size_t)(*n + 1) * sizeof *l);
        if (!l || !(l[*n] = strdup(path))) {
            if (l) *list = l;
            return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        }
        *list = l;
        (*n)++;
        return ILDIFF_OK;
    }
    DIR *d = opendir(path);
    if (!d) return ild_fail(ILDIFF_ERR_IO, "%s: cannot open directory", path);
    int first = *n;
    struct dirent *e;
    ildiff_status st = ILDIFF_OK;
    while (st == ILDIFF_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s/icons.json", path, e->d_name);
        if (stat(p, &sb) != 0) continue;
        char **l = realloc(*list, (size_t)(*n + 1) * sizeof *l);
        if (!l || !(l[*n] = strdup(p))) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        if (l) *list = l;
        if (st == ILDIFF_OK) (*n)++;
    }
    closedir(d);
    if (st == ILDIFF_OK && *n == first) st = ild_fail(ILDIFF_ERR_IO, "%s: no <set>/icons.json inside", path);
    if (st == ILDIFF_OK) qsort(*list + first, (size_t)(*n - first), sizeof **list, cmp_str);
    return st;
}

ildiff_status ild_sources_load(const char *const *paths, int path_count, const char *cldr_dir, ild_sources **out)
{
    *out = NULL;
    char **files = NULL;
    int nfiles = 0;
    ild_cldr *cldr = NULL;
    ild_sources *src = calloc(1, sizeof *src);
    ildiff_status st = src ? ILDIFF_OK : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (int i = 0; st == ILDIFF_OK && i < path_count; i++) st = expand_path(paths[i], &files, &nfiles);
    if (st == ILDIFF_OK) st = ild_cldr_load(cldr_dir, &cldr);
    if (st == ILDIFF_OK && !(src->sets = calloc((size_t)ILD_MAX(nfiles, 1), sizeof *src->sets)))
        st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (int i = 0; st == ILDIFF_OK && i < nfiles; i++) {
        st = load_set(files[i], cldr, &src->sets[src->set_count]);
        if (st == ILDIFF_OK) src->set_count++;
    }
    int64_t total = 0;
    for (int32_t i = 0; st == ILDIFF_OK && i < src->set_count; i++) total += src->sets[i].count;
    if (st == ILDIFF_OK && total == 0) st = ild_fail(ILDIFF_ERR_ARG, "the sources hold no usable icon");
    for (int s = 0; st == ILDIFF_OK && s < ILD_SPLIT_COUNT; s++)
        if (!(src->split_icons[s] = malloc((size_t)total * sizeof(ild_icon_ref)))) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; st == ILDIFF_OK && i < src->set_count; i++)
        for (int32_t j = 0; j < src->sets[i].count; j++) {
            ild_split s = ild_icon_split(src->sets[i].prefix, src->sets[i].icons[j].name);
            src->split_icons[s][src->split_count[s]++] = (ild_icon_ref){i, j};
        }
    for (int i = 0; i < nfiles; i++) free(files[i]);
    free(files);
    ild_cldr_free(cldr);
    if (st != ILDIFF_OK) {
        ild_sources_free(src);
        return st;
    }
    *out = src;
    return ILDIFF_OK;
}

const char *ild_split_name(ild_split s)
{
    static const char *const names[ILD_SPLIT_COUNT] = {"train", "val", "test"};
    return (unsigned)s < ILD_SPLIT_COUNT ? names[s] : "unknown";
}

int ild_split_from_name(const char *name)
{
    for (int s = 0; s < ILD_SPLIT_COUNT; s++)
        if (strcmp(name, ild_split_name((ild_split)s)) == 0) return s;
    return -1;
}

ild_split ild_icon_split(const char *set, const char *name)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = set; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    h = (h ^ '/') * 1099511628211ULL;
    for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    unsigned b = (unsigned)(ild_mix64(h) % 100);
    return b < 85 ? ILD_SPLIT_TRAIN : b < 90 ? ILD_SPLIT_VAL : ILD_SPLIT_TEST;
}
