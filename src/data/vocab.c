/*
 * vocab.c: the fixed trigger-word vocabulary (115 words, like TASD's 115 crawled words): emotions, actions,
 * objects, effects and occasions, each with its Chinese form and the icon-name tokens that imply it.
 * A match pattern is a '|'-separated list of tokens; an icon name matches when one of its '-'-separated tokens
 * equals a pattern, or starts with it when the pattern ends in '*'. Motion and effect words are added by the plan
 * from the chosen motions, not from names.
 */
#include "dataset.h"

#include <string.h>

#define E ILD_WORD_EMOTION
#define A ILD_WORD_ACTION
#define O ILD_WORD_OBJECT
#define F ILD_WORD_EFFECT
#define C ILD_WORD_OCCASION

static const ild_word words[] = {
    {"happy", "开心", E, "grinning|smiling|beaming|smile|happy|joy"},
    {"sad", "伤心", E, "sad|frowning|disappointed|pensive|sob*"},
    {"angry", "生气", E, "angry|pouting|enraged|rage|cursing|steam"},
    {"love", "爱", E, "heart*|love*|kiss*"},
    {"laugh", "大笑", E, "joy|laughing|rolling"},
    {"cry", "哭泣", E, "crying|tear*|loudly"},
    {"surprised", "惊讶", E, "astonished|hushed|surprised|exploding"},
    {"scared", "害怕", E, "fearful|screaming|scream|anxious"},
    {"cool", "酷", E, "sunglasses|cool"},
    {"sleepy", "困", E, "sleepy|yawning|zzz"},
    {"shy", "害羞", E, "blush*|shushing|peeking"},
    {"confused", "困惑", E, "confused|raised|monocle|diagonal"},
    {"thinking", "思考", E, "thinking|monocle"},
    {"kiss", "亲亲", E, "kiss*"},
    {"wink", "抛媚眼", E, "wink*"},
    {"silly", "搞怪", E, "tongue|zany|clown|upside|woozy"},
    {"sick", "生病", E, "sick|medical|nauseated|vomiting|thermometer|sneezing|bandage"},
    {"worried", "担心", E, "worried|grimacing|sweat"},
    {"calm", "平静", E, "relieved|halo|peace|lotus"},
    {"excited", "兴奋", E, "star-struck|partying|excited|struck"},
    {"tired", "累", E, "tired|weary|persevering|exhaling|melting"},
    {"embarrassed", "尴尬", E, "flushed|embarrassed|pleading"},
    {"disgusted", "嫌弃", E, "unamused|rolling|nauseated|vomiting"},
    {"proud", "骄傲", E, "smirking|nerd|crown|medal"},
    {"nervous", "紧张", E, "anxious|nervous|shaking"},
    {"wave", "挥手", A, "waving"},
    {"dance", "跳舞", A, "dancing|dancer|dance*"},
    {"jump", "跳跃", A, "jump*|trampoline|kangaroo"},
    {"bounce", "弹跳", A, ""},
    {"spin", "旋转", A, "cyclone|tornado"},
    {"shake", "摇晃", A, "shaking"},
    {"nod", "点头", A, ""},
    {"blink", "眨眼", A, ""},
    {"swing", "摆动", A, ""},
    {"float", "漂浮", A, "levitating|balloon|bubbles"},
    {"pulse", "跳动", A, "beating|growing"},
    {"wobble", "晃动", A, ""},
    {"slide", "滑入", A, "sled|skateboard|skier"},
    {"pop", "弹出", A, "popcorn|party"},
    {"squash", "挤压", A, ""},
    {"run", "奔跑", A, "running|runner"},
    {"fly", "飞翔", A, "flying|airplane|wing*|butterfly|helicopter"},
    {"eat", "吃", A, "eating|fork|spoon|chopsticks"},
    {"drink", "喝", A, "beverage|cup|tea*|coffee|beer*|wine|cocktail|bottle|milk"},
    {"sleep", "睡觉", A, "sleeping|bed|zzz"},
    {"celebrate", "庆祝", A, "confetti|fireworks|sparkler|popper|partying"},
    {"clap", "鼓掌", A, "clapping|clapper"},
    {"hug", "拥抱", A, "hug*|hugging"},
    {"hello", "你好", A, "waving|raising"},
    {"goodbye", "再见", A, ""},
    {"swim", "游泳", A, "swim*|dolphin|whale|seal"},
    {"sing", "唱歌", A, "singing|singer|microphone"},
    {"play", "玩耍", A, "game|joystick|puzzle|kite|yo-yo|teddy|toy"},
    {"face", "脸", O, "face"},
    {"cat", "猫", O, "cat"},
    {"dog", "狗", O, "dog|poodle|puppy"},
    {"heart", "爱心", O, "heart*"},
    {"star", "星星", O, "star|stars|glowing"},
    {"sun", "太阳", O, "sun|sunny|sunrise|sunset"},
    {"moon", "月亮", O, "moon"},
    {"cloud", "云", O, "cloud"},
    {"rain", "雨", O, "rain|umbrella|droplet"},
    {"snow", "雪", O, "snow*"},
    {"fire", "火", O, "fire|flame*"},
    {"flower", "花", O, "flower|blossom|rose|tulip|sunflower|hibiscus|bouquet|daisy"},
    {"tree", "树", O, "tree|palm|cactus|leaf|leaves|seedling|herb|clover|shamrock"},
    {"fruit", "水果", O, "apple|banana|grapes|melon|watermelon|cherries|strawberry|peach|pear|lemon|tangerine|pineapple|mango|kiwi|coconut|blueberries"},
    {"food", "食物", O, "pizza|hamburger|fries|bread|rice|noodle*|taco|sushi|cheese|egg|meat|sandwich|dumpling|curry|spaghetti|burrito|croissant|bacon|poultry"},
    {"cake", "蛋糕", O, "cake|cupcake|pie|cookie|candy|lollipop|chocolate|doughnut|dessert|ice|custard|shortcake"},
    {"gift", "礼物", O, "gift|present|wrapped"},
    {"balloon", "气球", O, "balloon"},
    {"ball", "球", O, "ball|soccer|basketball|baseball|softball|volleyball|tennis"},
    {"music", "音乐", O, "musical|guitar|piano|drum*|trumpet|violin|saxophone|headphone|notes|keyboard|banjo"},
    {"money", "钱", O, "money|dollar|yen|euro|pound|coin|bank|credit|gem"},
    {"phone", "手机", O, "phone|telephone|mobile"},
    {"book", "书", O, "book*|notebook|scroll|ledger"},
    {"car", "汽车", O, "car|automobile|taxi|bus|truck|racing|police|ambulance|minibus"},
    {"rocket", "火箭", O, "rocket|ufo|satellite"},
    {"ghost", "幽灵", O, "ghost"},
    {"skull", "骷髅", O, "skull"},
    {"robot", "机器人", O, "robot"},
    {"alien", "外星人", O, "alien"},
    {"monster", "怪兽", O, "ogre|goblin|monster|dinosaur|rex|sauropod|zombie"},
    {"bear", "熊", O, "bear|teddy|polar"},
    {"rabbit", "兔子", O, "rabbit|bunny"},
    {"panda", "熊猫", O, "panda"},
    {"bird", "鸟", O, "bird|chick|parrot|eagle|owl|penguin|dove|duck|swan|flamingo|peacock|rooster|turkey|hatching"},
    {"fish", "鱼", O, "fish|tropical|blowfish|shark|octopus|squid|shrimp|crab"},
    {"frog", "青蛙", O, "frog|turtle|lizard"},
    {"monkey", "猴子", O, "monkey|gorilla|orangutan"},
    {"unicorn", "独角兽", O, "unicorn|horse"},
    {"dragon", "龙", O, "dragon"},
    {"hand", "手", O, "hand*|thumbs|fist|palm*|fingers|index|victory|vulcan|pinching"},
    {"person", "人", O, "person|man|woman|boy|girl|people|family|adult|child|older|men|women"},
    {"baby", "宝宝", O, "baby"},
    {"crown", "皇冠", O, "crown|princess|prince|king|queen"},
    {"trophy", "奖杯", O, "trophy|medal"},
    {"bulb", "灯泡", O, "bulb|lamp|lantern|candle|flashlight"},
    {"sparkle", "闪光", F, "sparkles|sparkle|sparkling|dizzy"},
    {"glow", "发光", F, "glowing"},
    {"shadow", "阴影", F, ""},
    {"fade", "渐隐", F, ""},
    {"blur", "模糊", F, "dashing|dash"},
    {"shine", "闪耀", F, "bright|gem|diamond|shining"},
    {"outline", "描边", F, ""},
    {"magic", "魔法", F, "magic|wand|crystal|mage|fairy|genie|sparkles"},
    {"rainbow", "彩虹", F, "rainbow"},
    {"party", "派对", C, "party|partying|confetti|tada|popper"},
    {"birthday", "生日", C, "birthday|cake"},
    {"christmas", "圣诞", C, "christmas|santa|snowman|claus"},
    {"halloween", "万圣节", C, "jack|pumpkin|ghost|bat|zombie|vampire|spider"},
    {"thanks", "谢谢", C, "folded|pray*|handshake"},
    {"ok", "好的", C, "ok|thumbs|check|victory"},
    {"night", "晚安", C, "night|moon|milky|crescent|sleeping"},
    {"sport", "运动", C, "soccer|basketball|football|baseball|tennis|volleyball|rugby|golf*|ski*|surf*|cycling|biking|boxing|weight|trophy|medal"},
};
enum { WORD_COUNT = sizeof words / sizeof words[0] };
_Static_assert(WORD_COUNT == 115, "the vocabulary has 115 words, as TASD");

const ild_word *ild_vocab(int *count)
{
    *count = WORD_COUNT;
    return words;
}

int ild_vocab_find(const char *en)
{
    for (int i = 0; i < WORD_COUNT; i++)
        if (strcmp(words[i].en, en) == 0) return i;
    return -1;
}

/* True if one of the tokens of `name` matches one of the patterns of `match`. */
static bool name_matches(const char *name, const char *match)
{
    const char *p = match;
    while (*p) {
        const char *pe = strchr(p, '|');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        bool prefix = pl > 0 && p[pl - 1] == '*';
        size_t cmp = prefix ? pl - 1 : pl;
        if (cmp > 0) {
            /* patterns with '-' match across tokens: compare against the name at each token start */
            for (const char *t = name; *t;) {
                size_t tl = strcspn(t, "-");
                if (memchr(p, '-', cmp) ? strncmp(t, p, cmp) == 0 && (t[cmp] == 0 || t[cmp] == '-')
                                        : (prefix ? tl >= cmp : tl == cmp) && strncmp(t, p, cmp) == 0)
                    return true;
                t += tl;
                if (*t == '-') t++;
            }
        }
        if (!pe) break;
        p = pe + 1;
    }
    return false;
}

int ild_vocab_match_name(const char *icon_name, int16_t *out, int count, int max)
{
    for (int i = 0; i < WORD_COUNT && count < max; i++) {
        if (!words[i].match[0] || !name_matches(icon_name, words[i].match)) continue;
        bool dup = false;
        for (int j = 0; j < count; j++) dup |= out[j] == i;
        if (!dup) out[count++] = (int16_t)i;
    }
    return count;
}
