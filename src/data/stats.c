/*
 * stats.c: the paper's Table I for a corpus (samples, mean caption length in English and Chinese characters,
 * mean frames, trigger words, languages, keyframe index) plus the shares of samples with semi-open areas, opaque
 * near-white parts and soft alpha, computed from manifest.jsonl alone; and the Fig. 3 charts (trigger-word and
 * frame-count histograms) drawn as PNG bar charts.
 */
#include "dataset.h"
#include "../io/io.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <sys/stat.h>

/* Characters (UTF-8 code points) of s. */
static int64_t utf8_len(const char *s)
{
    int64_t n = 0;
    for (; *s; s++) n += ((uint8_t)*s & 0xc0) != 0x80;
    return n;
}

static bool json_true(const cJSON *o, const char *key) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key)); }

ildiff_status ild_stats_compute(const char *dir, ild_corpus_stats *s)
{
    memset(s, 0, sizeof *s);
    ild_vocab(&s->vocab_size);
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.jsonl", dir);
    uint8_t *data = NULL;
    size_t size = 0;
    ildiff_status st = ildiff_read_file(path, (int64_t)1 << 34, &data, &size);
    if (st != ILDIFF_OK) return ild_fail_in(st, path);
    double en = 0, zh = 0, frames = 0;
    char *text = (char *)data;
    for (size_t b = 0; b < size && st == ILDIFF_OK;) {
        size_t e = b;
        while (e < size && text[e] != '\n') e++;
        if (e > b) {
            cJSON *m = cJSON_ParseWithLength(text + b, e - b);
            const cJSON *fc = cJSON_GetObjectItemCaseSensitive(m, "frame_count");
            const cJSON *ce = cJSON_GetObjectItemCaseSensitive(m, "caption_en");
            const cJSON *cz = cJSON_GetObjectItemCaseSensitive(m, "caption_zh");
            if (!cJSON_IsNumber(fc) || !cJSON_IsString(ce) || !cJSON_IsString(cz)) {
                st = ild_fail(ILDIFF_ERR_FORMAT, "%s: line at byte %zu is not a sample record", path, b);
            } else {
                s->samples++;
                en += (double)utf8_len(ce->valuestring);
                zh += (double)utf8_len(cz->valuestring);
                frames += fc->valuedouble;
                int f = (int)fc->valuedouble;
                s->frame_hist[f < 0 ? 0 : f > ILD_STATS_MAX_FRAMES ? ILD_STATS_MAX_FRAMES : f]++;
                if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(m, "keyframe"))) s->with_keyframe++;
                const cJSON *w;
                cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(m, "trigger_words"))
                {
                    int k = cJSON_IsString(w) ? ild_vocab_find(w->valuestring) : -1;
                    if (k >= 0) s->word_count[k]++;
                }
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "tags");
                s->semi_open += json_true(t, "semi_open");
                s->white_parts += json_true(t, "white_parts");
                s->soft_alpha += json_true(t, "soft_alpha");
                const cJSON *sp = cJSON_GetObjectItemCaseSensitive(m, "split");
                int k = cJSON_IsString(sp) ? ild_split_from_name(sp->valuestring) : -1;
                if (k >= 0) s->by_split[k]++;
            }
            cJSON_Delete(m);
        }
        b = e + 1;
    }
    free(data);
    if (st != ILDIFF_OK) return st;
    if (s->samples == 0) return ild_fail(ILDIFF_ERR_FORMAT, "%s: no samples", path);
    s->mean_caption_en = en / (double)s->samples;
    s->mean_caption_zh = zh / (double)s->samples;
    s->mean_frames = frames / (double)s->samples;
    for (int k = 0; k < s->vocab_size; k++) s->words_used += s->word_count[k] > 0;
    return ILDIFF_OK;
}

ildiff_status ild_stats_markdown(const ild_corpus_stats *s, ild_buf *md)
{
    double n = (double)s->samples;
    ildiff_status st = ild_buf_printf(md,
        "| #Sample | Ave Description Length (en / zh characters) | Ave Frames Numbers |\n|---|---|---|\n"
        "| %lld | %.2f / %.2f | %.2f |\n\n"
        "| #Trigger Words (used / vocabulary) | Annotation language | Keyframe Index |\n|---|---|---|\n"
        "| %d / %d | En, Zh | %s |\n\n",
        (long long)s->samples, s->mean_caption_en, s->mean_caption_zh, s->mean_frames, s->words_used, s->vocab_size,
        s->with_keyframe == s->samples ? "✓" : "partial");
    if (st == ILDIFF_OK)
        st = ild_buf_printf(md,
            "| Tag | Share of samples |\n|---|---|\n| semi-open area (enclosed hole) | %.1f%% |\n"
            "| opaque near-white parts | %.1f%% |\n| soft alpha | %.1f%% |\n\n"
            "Splits: train %lld, val %lld, test %lld.\n",
            100.0 * (double)s->semi_open / n, 100.0 * (double)s->white_parts / n, 100.0 * (double)s->soft_alpha / n,
            (long long)s->by_split[0], (long long)s->by_split[1], (long long)s->by_split[2]);
    return st;
}

/* Draws a bar chart of `count` values, tallest bar = chart height, and writes it as PNG. */
static ildiff_status bar_chart(const char *path, const int64_t *values, int count, const uint8_t rgb[3])
{
    enum { H = 240, PAD = 10, BAR = 6, GAP = 2 };
    int32_t w = PAD * 2 + count * (BAR + GAP), h = H + PAD * 2;
    uint8_t *img = malloc((size_t)w * h * 4);
    if (!img) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory drawing a chart");
    memset(img, 255, (size_t)w * h * 4);
    int64_t top = 1;
    for (int i = 0; i < count; i++) top = ILD_MAX(top, values[i]);
    for (int i = 0; i < count; i++) {
        int32_t bh = (int32_t)((double)values[i] / (double)top * H + 0.5), x0 = PAD + i * (BAR + GAP);
        for (int32_t y = PAD + H - bh; y < PAD + H; y++)
            for (int32_t x = x0; x < x0 + BAR; x++) memcpy(img + ((size_t)y * w + x) * 4, rgb, 3);
    }
    for (int32_t x = PAD - 2; x < w - PAD + 2; x++) memset(img + ((size_t)(PAD + H) * w + x) * 4, 0, 3); /* axis */
    uint8_t *png = NULL;
    size_t n = 0;
    ildiff_status st = ild_png_encode_rgba(img, w, h, &png, &n);
    free(img);
    if (st == ILDIFF_OK) st = ildiff_write_file_atomic(path, png, n, true);
    free(png);
    return st;
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

ildiff_status ild_stats_write(const ild_corpus_stats *s, const char *markdown, const char *dir)
{
    if (mkdir(dir, 0777) != 0) {
        struct stat sb;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return ild_fail(ILDIFF_ERR_IO, "%s: cannot create the folder", dir);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/stats.md", dir);
    ildiff_status st = ildiff_write_file_atomic(path, (const uint8_t *)markdown, strlen(markdown), true);
    int64_t sorted[ILD_STATS_MAX_WORDS];
    memcpy(sorted, s->word_count, sizeof sorted);
    qsort(sorted, (size_t)s->vocab_size, sizeof *sorted, cmp_desc);
    static const uint8_t blue[3] = {52, 101, 164}, orange[3] = {230, 120, 40};
    snprintf(path, sizeof path, "%s/words.png", dir);
    if (st == ILDIFF_OK) st = bar_chart(path, sorted, s->vocab_size, blue);
    snprintf(path, sizeof path, "%s/frames.png", dir);
    if (st == ILDIFF_OK) st = bar_chart(path, s->frame_hist, ILD_STATS_MAX_FRAMES + 1, orange);
    if (st != ILDIFF_OK) return st;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "samples", (double)s->samples);
    cJSON_AddNumberToObject(j, "mean_caption_en", s->mean_caption_en);
    cJSON_AddNumberToObject(j, "mean_caption_zh", s->mean_caption_zh);
    cJSON_AddNumberToObject(j, "mean_frames", s->mean_frames);
    cJSON_AddNumberToObject(j, "trigger_words_used", s->words_used);
    cJSON_AddNumberToObject(j, "vocabulary", s->vocab_size);
    cJSON_AddNumberToObject(j, "semi_open_share", (double)s->semi_open / (double)s->samples);
    cJSON_AddNumberToObject(j, "white_parts_share", (double)s->white_parts / (double)s->samples);
    cJSON_AddNumberToObject(j, "soft_alpha_share", (double)s->soft_alpha / (double)s->samples);
    int vc;
    const ild_word *v = ild_vocab(&vc);
    cJSON *w = cJSON_AddObjectToObject(j, "trigger_word_counts");
    for (int k = 0; k < vc; k++) cJSON_AddNumberToObject(w, v[k].en, (double)s->word_count[k]);
    cJSON *f = cJSON_AddArrayToObject(j, "frame_histogram");
    for (int k = 0; k <= ILD_STATS_MAX_FRAMES; k++) cJSON_AddItemToArray(f, cJSON_CreateNumber((double)s->frame_hist[k]));
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/stats.json", dir);
    st = ildiff_write_file_atomic(path, (const uint8_t *)text, strlen(text), true);
    free(text);
    return st;
}
