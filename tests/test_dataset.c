/*
 * test_dataset.c: the TASD-style corpus: SVG part splitting, vocabulary, tar, plans (captions, trigger words,
 * keyframes), part masks against alpha, the clip sampler, and the builder: determinism across thread counts,
 * resume after a kill, split disjointness by icon, recipe checks. Uses tests/data/mini_icons.json (no network).
 */
#include "check.h"
#include "data/dataset.h"

#include <sys/stat.h>
#include <unistd.h>

static ild_sources *mini;

static char *tmp_path(const char *name)
{
    static char buf[8][4096];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 4096, "%s/dataset-%d-%s", CHECK_TMPDIR(), (int)getpid(), name);
    return p;
}

static ild_sources *load_mini(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/mini_icons.json", CHECK_DATA());
    const char *paths[] = {path};
    ild_sources *s = NULL;
    CHECK_OK(ild_sources_load(paths, 1, "/usr/share/unicode/cldr/common", &s));
    return s;
}

static bool same_file(const char *a, const char *b)
{
    uint8_t *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    bool ok = ildiff_read_file(a, 1 << 30, &x, &nx) == ILDIFF_OK && ildiff_read_file(b, 1 << 30, &y, &ny) == ILDIFF_OK &&
              nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return ok;
}

static bool same_corpus(const char *a, const char *b, int shards)
{
    char pa[4200], pb[4200];
    static const char *const fixed[] = {"corpus.json", "manifest.jsonl"};
    for (int i = 0; i < 2; i++) {
        snprintf(pa, sizeof pa, "%s/%s", a, fixed[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, fixed[i]);
        if (!same_file(pa, pb)) return false;
    }
    for (int k = 0; k < shards; k++) {
        snprintf(pa, sizeof pa, "%s/shard-%05d.tar", a, k);
        snprintf(pb, sizeof pb, "%s/shard-%05d.tar", b, k);
        if (!same_file(pa, pb)) return false;
    }
    return true;
}

static ildiff_status build(const char *dir, int64_t count, uint64_t seed, ild_split split, int threads)
{
    ild_build_options o = {.out_dir = dir, .count = count, .seed = seed, .split = split, .size = 32,
                           .shard_size = 2, .threads = threads, .quiet = true};
    return ild_corpus_build(mini, &o, NULL, NULL);
}

static void test_svg_parts(void)
{
    ild_svg_parts p;
    CHECK_OK(ild_svg_parts_split("<defs><linearGradient id=\"a\"/></defs><g fill=\"none\"><path d=\"M0 0h1\"/>"
                                 "<g><circle r=\"1\"/><rect width=\"1\" height=\"1\"/></g><!-- c --><ellipse rx=\"1\"/></g>", &p));
    CHECK(p.count == 3);
    CHECK(p.wrap_depth == 1);
    CHECK(strstr(p.defs, "linearGradient") != NULL);
    CHECK(strcmp(p.wrap_open, "<g fill=\"none\">") == 0);
    CHECK(p.count == 3 && strncmp(p.parts[1], "<g>", 3) == 0);
    ild_svg_parts_free(&p);
    CHECK(ild_svg_parts_split("<g><path d=\"M0 0\"/>", &p) == ILDIFF_ERR_FORMAT);
    CHECK(ild_svg_parts_split("<defs></defs>", &p) == ILDIFF_ERR_FORMAT);
    CHECK(ild_svg_parts_split("</g>", &p) == ILDIFF_ERR_FORMAT);
    /* many parts are merged into ILD_MAX_PARTS groups, none lost */
    char body[8192] = "";
    for (int i = 0; i < 60; i++) strcat(body, "<path d=\"M0 0\"/>");
    CHECK_OK(ild_svg_parts_split(body, &p));
    CHECK(p.count == ILD_MAX_PARTS);
    int total = 0;
    for (int i = 0; i < p.count; i++)
        for (const char *s = p.parts[i]; (s = strstr(s, "<path")); s++) total++;
    CHECK(total == 60);
    ild_svg_parts_free(&p);
}

static bool has_word(const int16_t *w, int n, const char *en)
{
    for (int i = 0; i < n; i++)
        if (w[i] == ild_vocab_find(en)) return true;
    return false;
}

static void test_vocab(void)
{
    int n;
    const ild_word *v = ild_vocab(&n);
    CHECK(n == 115);
    for (int i = 0; i < n; i++) {
        CHECK(v[i].en[0] && v[i].zh[0]);
        CHECK(ild_vocab_find(v[i].en) == i);
    }
    int16_t w[8];
    int k = ild_vocab_match_name("grinning-face-with-big-eyes", w, 0, 8);
    CHECK(has_word(w, k, "happy") && has_word(w, k, "face"));
    k = ild_vocab_match_name("credit-card", w, 0, 8);
    CHECK(!has_word(w, k, "car") && has_word(w, k, "money"));
    k = ild_vocab_match_name("sparkling-heart", w, 0, 8);
    CHECK(has_word(w, k, "heart") && has_word(w, k, "love") && has_word(w, k, "sparkle"));
    CHECK(ild_vocab_match_name("cat", w, 0, 0) == 0);
}

static int count_entries(const char *name, const uint8_t *data, size_t size, void *user)
{
    int *n = user;
    if (strcmp(name, "a/b.txt") == 0) CHECK(size == 5 && memcmp(data, "hello", 5) == 0);
    (*n)++;
    return 0;
}

static void test_tar(void)
{
    ild_buf t = {0};
    CHECK_OK(ild_tar_add(&t, "a/b.txt", (const uint8_t *)"hello", 5));
    CHECK_OK(ild_tar_add(&t, "a/empty", NULL, 0));
    CHECK_OK(ild_tar_end(&t));
    CHECK(t.size == 512 * 2 + 512 + 1024);
    int n = 0;
    CHECK_OK(ild_tar_each(t.data, t.size, count_entries, &n));
    CHECK(n == 2);
    char longname[120];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(ild_tar_add(&t, longname, NULL, 0) == ILDIFF_ERR_ARG);
    t.data[130] ^= 1; /* the size field: checksum no longer matches */
    n = 0;
    CHECK(ild_tar_each(t.data, t.size, count_entries, &n) == ILDIFF_ERR_FORMAT);
    t.data[130] ^= 1;
    CHECK(ild_tar_each(t.data, 700, count_entries, &n) != ILDIFF_OK); /* truncated inside an entry */
    ild_buf_free(&t);
}

static void test_sources(void)
{
    CHECK(mini->set_count == 1 && mini->sets[0].count == 12);
    CHECK(strcmp(mini->sets[0].author, "ildiff developers") == 0);
    int total = 0;
    for (int s = 0; s < ILD_SPLIT_COUNT; s++) {
        CHECK(mini->split_count[s] > 0);
        total += mini->split_count[s];
        for (int i = 0; i < mini->split_count[s]; i++) {
            const ild_icon *ic = &mini->sets[0].icons[mini->split_icons[s][i].icon];
            CHECK(ild_icon_split("mini", ic->name) == (ild_split)s);
        }
    }
    CHECK(total == 12);
    /* Chinese names from CLDR through the chars map (skipped where Debian's CLDR is missing) */
    struct stat sb;
    if (stat("/usr/share/unicode/cldr/common/annotations/zh.xml", &sb) == 0) {
        bool found = false;
        for (int i = 0; i < mini->sets[0].count; i++)
            if (strcmp(mini->sets[0].icons[i].name, "ghost") == 0) found = mini->sets[0].icons[i].name_zh != NULL;
        CHECK(found);
    }
    const char *missing[] = {"/nonexistent/icons.json"};
    ild_sources *s = NULL;
    CHECK(ild_sources_load(missing, 1, NULL, &s) == ILDIFF_ERR_IO && s == NULL);
    char bad[4200];
    snprintf(bad, sizeof bad, "%s", tmp_path("bad.json"));
    CHECK_OK(ildiff_write_file_atomic(bad, (const uint8_t *)"{\"icons\": 3}", 12, true));
    const char *badp[] = {bad};
    CHECK(ild_sources_load(badp, 1, NULL, &s) == ILDIFF_ERR_FORMAT && s == NULL);
}

static void test_plans(void)
{
    int vc;
    ild_vocab(&vc);
    for (int64_t i = 0; i < 24; i++) {
        ild_plan p, q;
        CHECK_OK(ild_plan_make(mini, 7, i, ILD_SPLIT_TRAIN, &p));
        CHECK(p.caption_en[0] && p.caption_zh[0]);
        CHECK(p.caption_en[strlen(p.caption_en) - 1] == '.');
        CHECK(strstr(p.caption_zh, "。") != NULL);
        CHECK(p.word_count >= 1);
        for (int k = 0; k < p.word_count; k++) CHECK(p.words[k] >= 0 && p.words[k] < vc);
        CHECK(p.frame_count >= 8 && p.frame_count <= 24);
        CHECK(p.keyframe >= 0 && p.keyframe < p.frame_count);
        CHECK(p.object_count >= 1 && p.object_count <= ILD_MAX_OBJECTS);
        CHECK_OK(ild_plan_make(mini, 7, i, ILD_SPLIT_TRAIN, &q));
        CHECK(strcmp(p.caption_en, q.caption_en) == 0 && p.obj[0].ref.icon == q.obj[0].ref.icon);
        ild_plan_clear(&p);
        ild_plan_clear(&q);
    }
    ild_plan p;
    CHECK_OK(ild_plan_make(mini, 7, 0, ILD_SPLIT_TEST, &p));
    CHECK(ild_icon_split("mini", mini->sets[0].icons[p.obj[0].ref.icon].name) == ILD_SPLIT_TEST);
    ild_plan_clear(&p);
}

static void test_masks_match_alpha(void)
{
    for (int64_t i = 0; i < 6; i++) {
        ild_plan p;
        CHECK_OK(ild_plan_make(mini, 11, i, ILD_SPLIT_TRAIN, &p));
        uint8_t *rgba = NULL, *masks = NULL;
        int32_t parts = 0;
        ild_sample_tags tags;
        CHECK_OK(ild_render_sample(mini, &p, 48, &rgba, &masks, &parts, &tags));
        size_t n = (size_t)48 * 48 * p.frame_count, labelled = 0, bad = 0, over = 0;
        for (size_t k = 0; k < n; k++) {
            if (masks[k]) labelled++;
            if (masks[k] && rgba[4 * k + 3] == 0) bad++;
            if (masks[k] > parts) over++;
        }
        CHECK(labelled > 0);
        CHECK_MSG(bad == 0, "plan %lld: %zu labelled pixels are transparent", (long long)i, bad);
        CHECK(over == 0);
        free(rgba);
        free(masks);
        ild_plan_clear(&p);
    }
}

static void test_tags(void)
{
    /* a ring: opaque white annulus around a transparent hole */
    enum { S = 32 };
    uint8_t img[S * S * 4] = {0};
    int32_t queue[S * S];
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int d2 = (x - 16) * (x - 16) + (y - 16) * (y - 16);
            if (d2 <= 144 && d2 >= 25) memset(img + (y * S + x) * 4, 255, 4);
        }
    ild_sample_tags t = {0};
    ild_tags_measure(img, S, S, queue, &t);
    CHECK(t.semi_open && t.white_parts && !t.soft_alpha);
    for (int i = 0; i < S * S; i++)
        if (img[4 * i + 3] == 0) img[4 * i + 3] = 100; /* fill the hole and outside with soft alpha */
    t = (ild_sample_tags){0};
    ild_tags_measure(img, S, S, queue, &t);
    CHECK(!t.semi_open && t.soft_alpha);
}

static void test_sampler(void)
{
    enum { W = 24, H = 16, T = 2 };
    uint8_t rgba[T * H * W * 4], rgb[T * H * W * 3], rgb2[T * H * W * 3], bg[H * W * 3], bg2[H * W * 3];
    for (int i = 0; i < T * H * W; i++) {
        int x = i % W;
        uint8_t px[4] = {200, 30, 40, (uint8_t)(x < 8 ? 0 : x < 16 ? 255 : 128)};
        memcpy(rgba + 4 * i, px, 4);
    }
    bool seen[ILD_DAMAGE_COUNT] = {0}, seen_bg[ILD_BG_COUNT] = {0};
    for (uint64_t seed = 0; seed < 60; seed++) {
        ild_clip_info info, info2;
        CHECK_OK(ild_clip_sample(rgba, T, W, H, seed, rgb, bg, &info));
        CHECK_OK(ild_clip_sample(rgba, T, W, H, seed, rgb2, bg2, &info2));
        CHECK(memcmp(rgb, rgb2, sizeof rgb) == 0 && memcmp(bg, bg2, sizeof bg) == 0);
        seen[info.damage] = true;
        seen_bg[info.background] = true;
        if (info.background == ILD_BG_WHITE)
            for (int i = 0; i < H * W * 3; i++) CHECK(bg[i] == 255);
        if (info.damage == ILD_DAMAGE_NONE)
            for (int i = 0; i < T * H * W; i++) {
                int x = i % W, p = i % (H * W);
                if (x < 8) CHECK(memcmp(rgb + 3 * i, bg + 3 * p, 3) == 0);
                else if (x < 16) CHECK(rgb[3 * i] == 200 && rgb[3 * i + 1] == 30 && rgb[3 * i + 2] == 40);
            }
        if (info.damage == ILD_DAMAGE_GIF) /* 1-bit alpha: half-transparent pixels become fully opaque */
            for (int i = 0; i < T * H * W; i++)
                if (i % W >= 16) CHECK(abs(rgb[3 * i] - 200) <= 8);
    }
    for (int d = 0; d < ILD_DAMAGE_COUNT; d++) CHECK_MSG(seen[d], "damage %s never drawn", ild_damage_name((ild_damage)d));
    for (int b = 0; b < ILD_BG_COUNT; b++) CHECK_MSG(seen_bg[b], "background %s never drawn", ild_bg_kind_name((ild_bg_kind)b));
}

static void test_determinism(void)
{
    const char *a = tmp_path("det-a"), *b = tmp_path("det-b");
    CHECK_OK(build(a, 5, 42, ILD_SPLIT_TRAIN, 2));
    CHECK_OK(build(b, 5, 42, ILD_SPLIT_TRAIN, 1));
    CHECK(same_corpus(a, b, 3));
    const char *c = tmp_path("det-c");
    CHECK_OK(build(c, 5, 43, ILD_SPLIT_TRAIN, 2));
    CHECK(!same_corpus(a, c, 3));
    /* a different recipe in an existing folder is refused */
    CHECK(build(a, 5, 43, ILD_SPLIT_TRAIN, 2) == ILDIFF_ERR_EXISTS);
}

static void test_resume(void)
{
    const char *a = tmp_path("res-a"), *b = tmp_path("res-b");
    CHECK_OK(build(a, 5, 9, ILD_SPLIT_TRAIN, 2));
    CHECK_OK(build(b, 5, 9, ILD_SPLIT_TRAIN, 2));
    char p[4300];
    /* a kill: one finished shard lost, another half-written, the manifest never written */
    snprintf(p, sizeof p, "%s/shard-00001.tar", b);
    CHECK(unlink(p) == 0);
    snprintf(p, sizeof p, "%s/shard-00002.jsonl", b);
    CHECK(unlink(p) == 0);
    snprintf(p, sizeof p, "%s/shard-00002.tar.tmp", b);
    CHECK_OK(ildiff_write_file_atomic(p, (const uint8_t *)"partial", 7, true));
    snprintf(p, sizeof p, "%s/manifest.jsonl", b);
    CHECK(unlink(p) == 0);
    CHECK_OK(build(b, 5, 9, ILD_SPLIT_TRAIN, 2));
    CHECK(same_corpus(a, b, 3));
}

static void test_ranks(void)
{
    const char *a = tmp_path("rank-a"), *b = tmp_path("rank-b");
    CHECK_OK(build(a, 5, 21, ILD_SPLIT_TRAIN, 2));
    char p[4300];
    snprintf(p, sizeof p, "%s/manifest.jsonl", b);
    for (int r = 1; r >= 0; r--) { /* two ranks sharing the folder; the last one to finish writes the manifest */
        ild_build_options o = {.out_dir = b, .count = 5, .seed = 21, .split = ILD_SPLIT_TRAIN, .size = 32,
                               .shard_size = 2, .threads = 1, .quiet = true, .rank = r, .ranks = 2};
        CHECK_OK(ild_corpus_build(mini, &o, NULL, NULL));
        struct stat sb;
        CHECK((stat(p, &sb) == 0) == (r == 0));
    }
    CHECK(same_corpus(a, b, 3));
    ild_build_options bad = {.out_dir = b, .count = 5, .seed = 21, .size = 32, .shard_size = 2, .rank = 2, .ranks = 2};
    CHECK(ild_corpus_build(mini, &bad, NULL, NULL) == ILDIFF_ERR_ARG);
}

/* Icons named by a manifest, as "set/icon" lines appended to out. */
static void manifest_icons(const char *dir, ild_buf *out, ild_split want, int *wrong)
{
    char p[4300];
    snprintf(p, sizeof p, "%s/manifest.jsonl", dir);
    uint8_t *d = NULL;
    size_t n = 0;
    CHECK_OK(ildiff_read_file(p, 1 << 26, &d, &n));
    ild_buf text = {0};
    CHECK_OK(ild_buf_append(&text, d, n)); /* NUL-terminated copy */
    char *s = (char *)text.data;
    for (char *q = s; q && (q = strstr(q, "\"icon\":\"")); q++) {
        q += 8;
        char *e = strchr(q, '"');
        if (!e) break;
        char name[200];
        snprintf(name, sizeof name, "%.*s", (int)(e - q), q);
        if (ild_icon_split("mini", name) != want) (*wrong)++;
        ild_buf_printf(out, "|%s|", name);
    }
    ild_buf_free(&text);
    free(d);
}

static void test_split_disjoint(void)
{
    const char *tr = tmp_path("split-train"), *te = tmp_path("split-test");
    CHECK_OK(build(tr, 6, 5, ILD_SPLIT_TRAIN, 2));
    ild_build_options o = {.out_dir = te, .count = 3, .seed = 5, .split = ILD_SPLIT_TEST, .size = 32, .shard_size = 2,
                           .cover = true, .quiet = true};
    CHECK_OK(ild_corpus_build(mini, &o, NULL, NULL));
    ild_buf a = {0}, b = {0};
    int wrong = 0;
    manifest_icons(tr, &a, ILD_SPLIT_TRAIN, &wrong);
    manifest_icons(te, &b, ILD_SPLIT_TEST, &wrong);
    CHECK(wrong == 0);
    CHECK(a.size > 0 && b.size > 0);
    /* no test icon in the training manifest */
    for (char *q = (char *)b.data; q && *q; ) {
        char *e = strchr(q + 1, '|');
        if (!e) break;
        char tok[220];
        snprintf(tok, sizeof tok, "%.*s", (int)(e - q + 1), q);
        CHECK_MSG(!strstr((char *)a.data, tok), "test icon %s in train", tok);
        q = e + 1;
    }
    ild_buf_free(&a);
    ild_buf_free(&b);
}

static void test_cover(void)
{
    int64_t idx[6];
    CHECK_OK(ild_cover_select(mini, 3, ILD_SPLIT_TRAIN, 30, 6, idx));
    uint64_t cov[2] = {0, 0}, first[2] = {0, 0};
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < i; j++) CHECK(idx[i] != idx[j]);
        ild_plan p, q;
        CHECK_OK(ild_plan_make(mini, 3, idx[i], ILD_SPLIT_TRAIN, &p));
        CHECK_OK(ild_plan_make(mini, 3, i, ILD_SPLIT_TRAIN, &q));
        for (int k = 0; k < p.word_count; k++) cov[p.words[k] >> 6] |= 1ULL << (p.words[k] & 63);
        for (int k = 0; k < q.word_count; k++) first[q.words[k] >> 6] |= 1ULL << (q.words[k] & 63);
        ild_plan_clear(&p);
        ild_plan_clear(&q);
    }
    CHECK(__builtin_popcountll(cov[0]) + __builtin_popcountll(cov[1]) >=
          __builtin_popcountll(first[0]) + __builtin_popcountll(first[1]));
}

int main(void)
{
    mini = load_mini();
    if (!mini) return check_done();
    RUN(test_svg_parts);
    RUN(test_vocab);
    RUN(test_tar);
    RUN(test_sources);
    RUN(test_plans);
    RUN(test_masks_match_alpha);
    RUN(test_tags);
    RUN(test_sampler);
    RUN(test_determinism);
    RUN(test_resume);
    RUN(test_ranks);
    RUN(test_split_disjoint);
    RUN(test_cover);
    ild_sources_free(mini);
    return check_done();
}
