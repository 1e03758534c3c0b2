/*
 * svgparts.c: splits an Iconify SVG body into its parts: the top-level drawable elements (path, g, circle, ...).
 * Non-drawable elements (defs, gradients, clip paths, masks, styles) are kept verbatim in `defs`. A body whose only
 * drawable element is a <g> wrapper (noto, fluent) is unwrapped, its opening tag kept in `wrap_open`, so its
 * children become the parts. Bodies with more than ILD_MAX_PARTS parts have consecutive parts merged into
 * ILD_MAX_PARTS groups. This is a markup splitter, not an XML parser: it tracks tags, quotes and comments only.
 */
#include "dataset.h"

#include <ctype.h>
#include <string.h>

typedef struct span {
    size_t begin, end; /* [begin, end) of one top-level element */
    bool drawable;
    bool group;        /* a <g> with children */
    size_t inner_begin, inner_end;
} span;

/* End of the tag starting at s[i] == '<' (index just past '>'), honouring quotes; 0 if unterminated. */
static size_t tag_end(const char *s, size_t n, size_t i)
{
    char quote = 0;
    for (size_t j = i + 1; j < n; j++) {
        if (quote) {
            if (s[j] == quote) quote = 0;
        } else if (s[j] == '"' || s[j] == '\'') {
            quote = s[j];
        } else if (s[j] == '>') {
            return j + 1;
        }
    }
    return 0;
}

static bool is_drawable(const char *name, size_t len)
{
    static const char *const hidden[] = {"defs", "linearGradient", "radialGradient", "clipPath", "mask", "filter",
                                         "pattern", "style", "title", "desc", "symbol", "metadata"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        if (strlen(hidden[i]) == len && strncmp(hidden[i], name, len) == 0) return false;
    return true;
}

/* Top-level elements of s[0, n). Returns the count, or -1 for unbalanced markup or too many elements. */
static int split_top(const char *s, size_t n, span *out, int max)
{
    int count = 0;
    size_t i = 0;
    while (i < n) {
        if (s[i] != '<') {
            i++;
            continue;
        }
        if (strncmp(s + i, "<!--", 4) == 0) {
            const char *e = strstr(s + i + 4, "-->");
            if (!e || (size_t)(e - s) + 3 > n) return -1;
            i = (size_t)(e - s) + 3;
            continue;
        }
        if (i + 1 < n && s[i + 1] == '/') return -1; /* a close tag at depth 0 */
        size_t te = tag_end(s, n, i);
        if (!te) return -1;
        size_t nl = 0;
        while (i + 1 + nl < te && (isalnum((unsigned char)s[i + 1 + nl]) || s[i + 1 + nl] == ':')) nl++;
        if (nl == 0) return -1;
        if (count == max) return -1;
        span sp = {.begin = i, .drawable = is_drawable(s + i + 1, nl)};
        if (s[te - 2] == '/') {
            sp.end = te;
        } else {
            int depth = 1;
            size_t j = te;
            while (depth > 0) {
                while (j < n && s[j] != '<') j++;
                if (j >= n) return -1;
                if (strncmp(s + j, "<!--", 4) == 0) {
                    const char *e = strstr(s + j + 4, "-->");
                    if (!e) return -1;
                    j = (size_t)(e - s) + 3;
                    continue;
                }
                size_t je = tag_end(s, n, j);
                if (!je) return -1;
                if (s[j + 1] == '/') depth--;
                else if (s[je - 2] != '/') depth++;
                if (depth == 0) {
                    sp.inner_begin = te;
                    sp.inner_end = j;
                }
                j = je;
            }
            sp.end = j;
            sp.group = nl == 1 && s[i + 1] == 'g';
        }
        out[count++] = sp;
        i = sp.end;
    }
    return count;
}

static char *dup_range(const char *s, size_t b, size_t e)
{
    char *d = malloc(e - b + 1);
    if (!d) return NULL;
    memcpy(d, s + b, e - b);
    d[e - b] = 0;
    return d;
}

static ildiff_status append(char **dst, const char *s, size_t n)
{
    size_t old = *dst ? strlen(*dst) : 0;
    char *d = realloc(*dst, old + n + 1);
    if (!d) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory splitting an SVG body");
    memcpy(d + old, s, n);
    d[old + n] = 0;
    *dst = d;
    return ILDIFF_OK;
}

void ild_svg_parts_free(ild_svg_parts *p)
{
    if (!p) return;
    free(p->defs);
    free(p->wrap_open);
    for (int i = 0; i < p->count; i++) free(p->parts[i]);
    memset(p, 0, sizeof *p);
}

enum { MAX_TOP = 4096 };

ildiff_status ild_svg_parts_split(const char *body, ild_svg_parts *out)
{
    memset(out, 0, sizeof *out);
    span *sp = malloc(MAX_TOP * sizeof *sp);
    if (!sp) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory splitting an SVG body");
    ildiff_status st = append(&out->defs, "", 0);
    if (st == ILDIFF_OK) st = append(&out->wrap_open, "", 0);
    size_t b = 0, e = strlen(body);
    int n = 0, drawn = 0;
    while (st == ILDIFF_OK) {
        n = split_top(body + b, e - b, sp, MAX_TOP);
        if (n < 0) {
            st = ild_fail(ILDIFF_ERR_FORMAT, "unbalanced SVG markup");
            break;
        }
        drawn = 0;
        int last = -1;
        for (int i = 0; i < n; i++) {
            if (sp[i].drawable) {
                drawn++;
                last = i;
            } else {
                st = append(&out->defs, body + b + sp[i].begin, sp[i].end - sp[i].begin);
            }
        }
        if (st != ILDIFF_OK || drawn != 1 || !sp[last].group) break;
        /* a single <g> wrapper: keep its opening tag and descend */
        st = append(&out->wrap_open, body + b + sp[last].begin, sp[last].inner_begin - sp[last].begin);
        out->wrap_depth++;
        size_t nb = b + sp[last].inner_begin, ne = b + sp[last].inner_end;
        b = nb;
        e = ne;
    }
    if (st == ILDIFF_OK && drawn == 0) st = ild_fail(ILDIFF_ERR_FORMAT, "SVG body has no drawable element");
    if (st == ILDIFF_OK) {
        /* group consecutive drawable elements into at most ILD_MAX_PARTS parts */
        int groups = ILD_MIN(drawn, ILD_MAX_PARTS), k = 0;
        for (int i = 0; i < n && st == ILDIFF_OK; i++) {
            if (!sp[i].drawable) continue;
            int g = (int)((int64_t)k * groups / drawn);
            k++;
            if (g >= out->count) {
                out->parts[g] = dup_range(body + b, sp[i].begin, sp[i].end);
                out->count = g + 1;
                if (!out->parts[g]) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory splitting an SVG body");
            } else {
                st = append(&out->parts[g], body + b + sp[i].begin, sp[i].end - sp[i].begin);
            }
        }
    }
    free(sp);
    if (st != ILDIFF_OK) ild_svg_parts_free(out);
    return st;
}
