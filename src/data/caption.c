/*
 * caption.c: English and Chinese captions from a plan, by a small template grammar:
 *   caption = subject motion [part] [companions] [effect] [outline] "."
 * Each slot has two or three phrasings picked by the plan's random stream. English names come from icon names
 * ("grinning-face" -> "grinning face"); Chinese names from CLDR, else from the vocabulary word the name implies.
 * Cannot fail: captions are cut at the buffer size (400 bytes) on a character boundary.
 */
#include "dataset.h"

#include <string.h>

typedef struct text {
    char *s;
    size_t cap, len;
} text;

static void put(text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n >= t->cap) { /* cut on a UTF-8 boundary */
        n = t->cap - 1 - t->len;
        while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80) n--;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = 0;
}

/* "grinning face with big eyes" from "grinning-face-with-big-eyes". */
static void english_name(const char *name, char *out, size_t cap)
{
    size_t i = 0;
    for (; name[i] && i + 1 < cap; i++) out[i] = name[i] == '-' ? ' ' : name[i];
    out[i] = 0;
}

static const char *article(const char *noun) { return strchr("aeiou", noun[0]) ? "an" : "a"; }

/* Chinese name of an icon: CLDR's, else the Chinese of the first vocabulary word its name implies. */
static const char *chinese_name(const ild_icon *ic)
{
    if (ic->name_zh) return ic->name_zh;
    int16_t w[4];
    int n = ild_vocab_match_name(ic->name, w, 0, 4), count;
    const ild_word *v = ild_vocab(&count);
    for (int i = 0; i < n; i++)
        if (v[w[i]].kind == ILD_WORD_OBJECT) return v[w[i]].zh;
    return n ? v[w[0]].zh : "表情";
}

static void style(const char *prefix, const char **en, const char **zh)
{
    static const char *const sets[][3] = {{"twemoji", "flat", "扁平风格的"}, {"noto", "glossy", "立体光泽的"},
                                          {"openmoji", "outlined", "线条风格的"}, {"fluent-emoji-flat", "soft flat", "柔和扁平的"}};
    *en = "cartoon";
    *zh = "卡通";
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (strcmp(prefix, sets[i][0]) == 0) {
            *en = sets[i][1];
            *zh = sets[i][2];
        }
}

static const char *const motion_en[ILD_MOTION_COUNT][2] = {
    [ILD_MOTION_STILL] = {"stays in place", "rests calmly in the middle"},
    [ILD_MOTION_BOUNCE] = {"bounces up and down", "hops up and down happily"},
    [ILD_MOTION_SQUASH] = {"squashes and stretches like jelly", "squishes down and stretches up"},
    [ILD_MOTION_WOBBLE] = {"wobbles from side to side", "sways left and right"},
    [ILD_MOTION_PULSE] = {"pulses gently in and out", "grows and shrinks to a beat"},
    [ILD_MOTION_SPIN] = {"spins around in a full circle", "keeps turning round and round"},
    [ILD_MOTION_SLIDE_IN] = {"slides in from the side and stops", "glides into view and settles"},
    [ILD_MOTION_SHAKE] = {"shakes quickly from side to side", "trembles nervously"},
    [ILD_MOTION_FLOAT] = {"floats softly up and down", "hovers gently in the air"},
    [ILD_MOTION_NOD] = {"nods forward a few times", "bows its head again and again"},
    [ILD_MOTION_POP_IN] = {"pops up", "springs into view"}};
static const char *const motion_zh[ILD_MOTION_COUNT][2] = {
    [ILD_MOTION_STILL] = {"静静地停在原地", "安稳地待在中间"},
    [ILD_MOTION_BOUNCE] = {"上下弹跳", "开心地蹦蹦跳跳"},
    [ILD_MOTION_SQUASH] = {"像果冻一样挤压拉伸", "被压扁又弹回拉长"},
    [ILD_MOTION_WOBBLE] = {"左右摇摆", "来回晃动"},
    [ILD_MOTION_PULSE] = {"一张一缩地跳动", "随着节拍变大变小"},
    [ILD_MOTION_SPIN] = {"转了一整圈", "不停地旋转"},
    [ILD_MOTION_SLIDE_IN] = {"从侧面滑入后停住", "滑进画面并稳稳停下"},
    [ILD_MOTION_SHAKE] = {"快速左右抖动", "紧张地颤抖"},
    [ILD_MOTION_FLOAT] = {"轻轻上下漂浮", "在空中缓缓悬浮"},
    [ILD_MOTION_NOD] = {"向前点了几下头", "一次又一次地点头"},
    [ILD_MOTION_POP_IN] = {"突然弹出来", "蹦进画面"}};
static const char *const part_en[ILD_PART_COUNT] = {
    [ILD_PART_WAVE] = " as one part waves",
    [ILD_PART_SWING] = " as one part swings",
    [ILD_PART_BLINK] = " as a detail blinks",
    [ILD_PART_BOUNCE] = " as one piece hops",
    [ILD_PART_PULSE] = " as one part throbs"};
static const char *const part_zh[ILD_PART_COUNT] = {
    [ILD_PART_WAVE] = "，其中一个部分来回挥动", [ILD_PART_SWING] = "，其中一个部分像钟摆一样摆动",
    [ILD_PART_BLINK] = "，一个小细节眨呀眨", [ILD_PART_BOUNCE] = "，一个小部件自己跳动",
    [ILD_PART_PULSE] = "，其中一部分一胀一缩"};

static void colour_names(const float rgb[3], const char **en, const char **zh)
{
    if (rgb[2] > 0.9f && rgb[0] < 0.6f) *en = "cyan", *zh = "青色";
    else if (rgb[1] < 0.7f) *en = "pink", *zh = "粉色";
    else if (rgb[2] < 0.6f) *en = "golden", *zh = "金黄色";
    else *en = "white", *zh = "白色";
}

void ild_caption_make(const ild_sources *src, ild_plan *p, ild_rng *rng)
{
    text en = {p->caption_en, sizeof p->caption_en, 0}, zh = {p->caption_zh, sizeof p->caption_zh, 0};
    p->caption_en[0] = p->caption_zh[0] = 0;
    const ild_icon_set *set = &src->sets[p->obj[0].ref.set];
    const ild_icon *ic = &set->icons[p->obj[0].ref.icon];
    const char *st_en, *st_zh, *col_en, *col_zh;
    style(set->prefix, &st_en, &st_zh);
    colour_names(p->effect_rgb, &col_en, &col_zh);
    char name[160], buf[600];
    english_name(ic->name, name, sizeof name);
    static const char *const kind_en[] = {"sticker", "emoji", "cartoon"};
    static const char *const kind_zh[] = {"贴纸", "表情", "动态贴纸"};
    int kind = (int)ild_rng_int(rng, 3);
    if (kind == 0) snprintf(buf, sizeof buf, "%s %s %s sticker ", strchr("aeiou", st_en[0]) ? "An" : "A", st_en, name);
    else snprintf(buf, sizeof buf, "%s %s %s ", strchr("aeiou", name[0]) ? "An" : "A", name, kind_en[kind]);
    put(&en, buf);
    snprintf(buf, sizeof buf, "一个%s%s%s", st_zh, chinese_name(ic), kind_zh[kind]);
    put(&zh, buf);
    int m = (int)ild_rng_int(rng, 2);
    put(&en, motion_en[p->obj[0].motion][m]);
    put(&zh, motion_zh[p->obj[0].motion][m]);
    if (p->part_motion != ILD_PART_NONE) {
        put(&en, part_en[p->part_motion]);
        put(&zh, part_zh[p->part_motion]);
    }
    for (int i = 1; i < p->object_count; i++) {
        const ild_icon *c = &src->sets[p->obj[i].ref.set].icons[p->obj[i].ref.icon];
        english_name(c->name, name, sizeof name);
        if (i == 1) snprintf(buf, sizeof buf, ", beside a small %s", name);
        else snprintf(buf, sizeof buf, " and %s %s", article(name), name);
        put(&en, buf);
        snprintf(buf, sizeof buf, i == 1 ? "，旁边有一个小%s" : "和一个%s", chinese_name(c));
        put(&zh, buf);
    }
    static const char *const shadow_en[] = {", casting a soft shadow", ", with a drop shadow"};
    static const char *const fade_en[] = {", fading in", ", slowly appearing"};
    int e = (int)ild_rng_int(rng, 2);
    switch (p->effect) {
    case ILD_EFFECT_SHADOW: put(&en, shadow_en[e]); put(&zh, "，带有柔和的投影"); break;
    case ILD_EFFECT_GLOW:
        snprintf(buf, sizeof buf, ", with a soft %s glow", col_en);
        put(&en, buf);
        snprintf(buf, sizeof buf, "，周围散发着柔和的%s光芒", col_zh);
        put(&zh, buf);
        break;
    case ILD_EFFECT_MOTION_BLUR: put(&en, ", with motion blur"); put(&zh, "，身后带着动态模糊"); break;
    case ILD_EFFECT_FADE: put(&en, fade_en[e]); put(&zh, "，从透明中渐渐显现"); break;
    case ILD_EFFECT_SPARKLES:
        snprintf(buf, sizeof buf, " among %s sparkles", col_en);
        put(&en, buf);
        snprintf(buf, sizeof buf, "，周围闪烁着%s的星光", col_zh);
        put(&zh, buf);
        break;
    default: break;
    }
    if (p->outline) {
        put(&en, p->effect == ILD_EFFECT_NONE ? ", with a white outline" : " and a white outline");
        put(&zh, "，还有一圈白色的贴纸描边");
    }
    put(&en, ".");
    put(&zh, "。");
}
