/*
 * cldr.c: Chinese emoji names from Unicode CLDR (Debian's unicode-cldr-core): the `type="tts"` annotations of
 * annotations/zh.xml and annotationsDerived/zh.xml, read line by line (each annotation is one line in CLDR's
 * files) into a hash table keyed by the emoji's UTF-8 string. Lines that do not look like an annotation are
 * skipped; a missing folder gives no table, not an error.
 */
#include "dataset.h"

#include <string.h>

typedef struct cldr_entry {
    char *key, *name;
} cldr_entry;

struct ild_cldr {
    cldr_entry *slots; /* (cap) open addressing, key NULL = empty */
    size_t cap, count;
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static ildiff_status put(ild_cldr *c, const char *key, size_t klen, const char *name, size_t nlen)
{
    if ((c->count + 1) * 2 > c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 4096;
        cldr_entry *ns = calloc(ncap, sizeof *ns);
        if (!ns) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory reading CLDR names");
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->slots[i].key) continue;
            size_t j = fnv(c->slots[i].key) & (ncap - 1);
            while (ns[j].key) j = (j + 1) & (ncap - 1);
            ns[j] = c->slots[i];
        }
        free(c->slots);
        c->slots = ns;
        c->cap = ncap;
    }
    char *k = strndup(key, klen), *v = strndup(name, nlen);
    if (!k || !v) {
        free(k);
        free(v);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory reading CLDR names");
    }
    size_t j = fnv(k) & (c->cap - 1);
    while (c->slots[j].key) {
        if (strcmp(c->slots[j].key, k) == 0) { /* first file wins */
            free(k);
            free(v);
            return ILDIFF_OK;
        }
        j = (j + 1) & (c->cap - 1);
    }
    c->slots[j] = (cldr_entry){k, v};
    c->count++;
    return ILDIFF_OK;
}

static ildiff_status load_file(ild_cldr *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return ILDIFF_OK;
    char line[1024];
    ildiff_status st = ILDIFF_OK;
    while (st == ILDIFF_OK && fgets(line, sizeof line, f)) {
        if (!strstr(line, "type=\"tts\"")) continue;
        char *cp = strstr(line, "cp=\"");
        if (!cp) continue;
        cp += 4;
        char *cpe = strchr(cp, '"');
        char *txt = cpe ? strchr(cpe, '>') : NULL;
        char *txte = txt ? strstr(txt, "</annotation>") : NULL;
        if (!cpe || !txt || !txte || cpe == cp) continue;
        st = put(c, cp, (size_t)(cpe - cp), txt + 1, (size_t)(txte - txt - 1));
    }
    fclose(f);
    return st;
}

void ild_cldr_free(ild_cldr *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++) {
        free(c->slots[i].key);
        free(c->slots[i].name);
    }
    free(c->slots);
    free(c);
}

ildiff_status ild_cldr_load(const char *dir, ild_cldr **out)
{
    *out = NULL;
    if (!dir) return ILDIFF_OK;
    ild_cldr *c = calloc(1, sizeof *c);
    if (!c) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory reading CLDR names");
    char path[4096];
    snprintf(path, sizeof path, "%s/annotations/zh.xml", dir);
    ildiff_status st = load_file(c, path);
    snprintf(path, sizeof path, "%s/annotationsDerived/zh.xml", dir);
    if (st == ILDIFF_OK) st = load_file(c, path);
    if (st != ILDIFF_OK || c->count == 0) {
        ild_cldr_free(c);
        return st;
    }
    *out = c;
    return ILDIFF_OK;
}

/* Appends the UTF-8 encoding of codepoint u; returns bytes written (0 if invalid or no room). */
static size_t utf8_put(char *d, size_t room, unsigned long u)
{
    if (u < 0x80 && room > 1) { d[0] = (char)u; return 1; }
    if (u < 0x800 && room > 2) { d[0] = (char)(0xc0 | (u >> 6)); d[1] = (char)(0x80 | (u & 63)); return 2; }
    if (u < 0x10000 && room > 3) {
        d[0] = (char)(0xe0 | (u >> 12)); d[1] = (char)(0x80 | ((u >> 6) & 63)); d[2] = (char)(0x80 | (u & 63));
        return 3;
    }
    if (u < 0x110000 && room > 4) {
        d[0] = (char)(0xf0 | (u >> 18)); d[1] = (char)(0x80 | ((u >> 12) & 63));
        d[2] = (char)(0x80 | ((u >> 6) & 63)); d[3] = (char)(0x80 | (u & 63));
        return 4;
    }
    return 0;
}

static const char *find(const ild_cldr *c, const char *key)
{
    size_t j = fnv(key) & (c->cap - 1);
    while (c->slots[j].key) {
        if (strcmp(c->slots[j].key, key) == 0) return c->slots[j].name;
        j = (j + 1) & (c->cap - 1);
    }
    return NULL;
}

const char *ild_cldr_lookup(const ild_cldr *c, const char *hex_seq)
{
    if (!c) return NULL;
    for (int pass = 0; pass < 2; pass++) {
        char key[128];
        size_t k = 0;
        const char *s = hex_seq;
        while (*s) {
            char *end;
            unsigned long u = strtoul(s, &end, 16);
            if (end == s) return NULL;
            if (!(pass == 1 && u == 0xfe0f)) {
                size_t w = utf8_put(key + k, sizeof key - k, u);
                if (!w) return NULL;
                k += w;
            }
            s = *end == '-' ? end + 1 : end;
            if (*end && *end != '-') return NULL;
        }
        key[k] = 0;
        const char *name = find(c, key);
        if (name) return name;
    }
    return NULL;
}
