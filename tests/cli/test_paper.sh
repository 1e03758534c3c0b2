#!/bin/bash
# test_paper.sh: `ildiff paper` end to end on a tiny exchange-form set made here (3 samples x 4 frames: a ring
# with white parts around an enclosed hole, on white and on teal), with the key and flood baselines: README.md
# holds Table II and Table III, the Fig. 4 charts and Fig. 5 / 6 strips are PNGs of the sizes the code promises,
# every number of Table II equals `ildiff eval`'s on the same set, the corpus part (Table I, Fig. 3) with
# --corpus, and the errors.
. "$(dirname "$0")/lib.sh"
T=$ILDIFF_TEST_TMP/paper
rm -rf "$T"
mkdir -p "$T"

/usr/bin/python3 - "$T" "$(dirname "$0")/../reference" <<'PY'
import json, os, struct, sys, zlib
import numpy as np

sys.path.insert(0, sys.argv[2])
from pngwrite import png

root = sys.argv[1]
H, W = 40, 48
yy, xx = np.mgrid[0:H, 0:W]
for name, shift, bg, tags in [("ring", 0, [255, 255, 255], ["semi-open", "white-parts"]),
                              ("shift", 3, [255, 255, 255], ["soft-alpha"]),
                              ("teal", 1, [40, 160, 150], [])]:
    d = {k: os.path.join(root, "set", name, k) for k in ["input", "gt_alpha", "gt_rgba"]}
    for p in d.values():
        os.makedirs(p, exist_ok=True)
    for f in range(4):
        r = np.hypot(yy - H / 2 + 0.5, xx - W / 2 + 0.5 - shift * f)
        alpha = np.clip(16.5 - r, 0, 1) * np.clip(r - 6.5, 0, 1)          # a soft ring around a hole
        colour = np.zeros((H, W, 3)) + [230, 40, 40]
        colour[(yy < H / 2) & (r > 9)] = 255                              # white parts on the ring
        a8 = np.rint(alpha * 255).astype(np.uint8)
        comp = np.rint(colour * alpha[..., None] + np.array(bg) * (1 - alpha[..., None]))
        n = "%03d.png" % f
        png(os.path.join(d["input"], n), comp)
        png(os.path.join(d["gt_alpha"], n), a8)
        png(os.path.join(d["gt_rgba"], n), np.concatenate([colour.astype(np.uint8), a8[..., None]], axis=-1))
    png(os.path.join(root, "set", name, "bg.png"), np.zeros((H, W, 3)) + bg)
    with open(os.path.join(root, "set", name, "meta.json"), "w") as fh:
        json.dump({"tags": tags, "background": "#%02x%02x%02x" % tuple(bg)}, fh)
PY
[ -d "$T/set/ring/input" ] || { echo "FAIL make_set"; exit 1; }

R=$T/report
expect_exit paper_runs 0 "$ILDIFF" paper --samples "$T/set" --out "$R" --methods key,flood -q
grep -q "^$R/README.md\$" "$ILDIFF_TEST_TMP/stdout.txt" && case_ok prints_report_path ||
    case_fail prints_report_path "$(cat "$ILDIFF_TEST_TMP/stdout.txt")"
check table2 grep -q '^## Table II' "$R/README.md"
check table3 grep -q '^## Table III' "$R/README.md"
check table3_rows_explained grep -q '^| 5 | ildiff-d5 | not run (no weights given)' "$R/README.md"
check paper_numbers_labelled grep -q "^### The paper's Table II, as published (not our numbers)" "$R/README.md"
check hard_sample_semi_open grep -q '^| ring | [0-9]* | semi-open |$' "$R/README.md"
check no_corpus_note grep -q 'Not generated: run with `--corpus DIR`' "$R/README.md"
check method_reports test -s "$R/eval/key/report.md" -a -s "$R/eval/flood/report.json"

# size_is NAME FILE W H: the PNG decodes (ildiff info) and is W x H.
size_is() {
    got=$("$ILDIFF" info "$2" 2>&1 | awk '$1 == "size" {print $2}')
    [ "$got" = "${3}x${4}" ] && case_ok "$1" || case_fail "$1" "size '$got', wanted ${3}x${4}"
}
# Charts: max(640, 98 + 132 x methods) x 400; strips: 8 + cols x 152 wide, 50 + rows x 166 high.
for f in dtssd hole collapse; do size_is "chart_$f" "$R/fig4_$f.png" 640 400; done
size_is strip_hard "$R/fig6_hard.png" $((8 + 4 * 152)) $((50 + 3 * 166))     # 3 samples; input, GT, 2 methods
size_is strip_flicker "$R/fig5_flicker.png" $((8 + 4 * 152)) $((50 + 3 * 166)) # 4 frames; GT, 2 methods

# Table II equals `ildiff eval`, metric by metric (fps aside: it is measured anew).
for m in key flood; do
    "$ILDIFF" eval --samples "$T/set" --method $m --out "$T/eval_$m" -q >"$T/eval_$m.txt" 2>&1
    want=$(tail -1 "$T/eval_$m.txt" | awk '{for (i = 1; i < NF - 2; i += 2) printf "%s ", ($(i + 1) == "nan" ? "n/a" : $(i + 1))}')
    got=$(grep "^| $m |" "$R/README.md" | head -1 | awk -F'|' '{for (i = 3; i <= 11; i++) {gsub(/ /, "", $i); printf "%s ", $i}}')
    [ -n "$want" ] && [ "$want" = "$got" ] && case_ok "same_as_eval_$m" || case_fail "same_as_eval_$m" "eval '$want' README '$got'"
done
check json /usr/bin/python3 -c "
import json
r = json.load(open('$R/report.json'))
e = json.load(open('$T/eval_key/report.json'))
assert [m['method'] for m in r['methods']] == ['key', 'flood'], r['methods']
assert r['methods'][0]['PSNR'] == e['overall']['PSNR'] and r['methods'][0]['hole'] == e['overall']['hole']
assert r['clips'] == 3 and r['frames'] == 12
assert [t['available'] for t in r['table3']] == [False] * 4
assert r['paper_quoted']['table2']['ILDiff']['PSNR'] == 28.04
assert r['figures']['fig6']['shown'][0] == {'sample': 'ring', 'frame': r['figures']['fig6']['shown'][0]['frame'], 'frames': 1, 'why': 'semi-open'}
assert r['figures']['fig5']['shown'][0]['frames'] == 4 and r['corpus'] is None
"

# Black and white rows, fewer samples, and the default method list (every method without an argument).
expect_exit strip_bw 0 "$ILDIFF" paper --samples "$T/set" --out "$T/bw" --strip-samples 2 --strip-bw -q
size_is strip_hard_bw "$T/bw/fig6_hard.png" $((8 + 4 * 152)) $((50 + 6 * 166))
check default_methods grep -q '^| flood |' "$T/bw/README.md"

# Predictions made elsewhere (dir:PATH): the ground truth scores 60 dB, and its eval report gets a safe folder name.
for s in ring shift teal; do mkdir -p "$T/pred/$s" && cp "$T/set/$s/gt_alpha/"*.png "$T/pred/$s/"; done
expect_exit paper_dir 0 "$ILDIFF" paper --samples "$T/set" --out "$T/withdir" --methods "key,dir:$T/pred/" -q
check dir_row grep -q '^| dir:pred | 60.0000 | 1.0000 | 0.0000 |' "$T/withdir/README.md"
check dir_report test -s "$T/withdir/eval/dir_pred/report.md"

# Labelled rows (LABEL=SPEC) fill the paper's named rows: Table II's twins, Table III and the claims.
expect_exit paper_labelled 0 "$ILDIFF" paper --samples "$T/set" --out "$T/labelled" -q \
    --methods "layerdiffusion=key,ildiff-d5=dir:$T/pred/,ildiff-d0=flood"
check labelled_table3 grep -q '^| 5 | ildiff-d5 | 60.0000 | 1.0000 |' "$T/labelled/README.md"
check labelled_table2 grep -q '^| layerdiffusion |' "$T/labelled/README.md"
check labelled_claim1 grep -q 'hole [0-9.]* (ildiff-d5) vs [0-9.]* (layerdiffusion)' "$T/labelled/README.md"
check labelled_folder test -s "$T/labelled/eval/ildiff-d5/report.md"
expect_exit label_twice 1 "$ILDIFF" paper --samples "$T/set" --out "$T/x" --methods "a=key,a=flood" -q
expect_exit label_empty 2 "$ILDIFF" paper --samples "$T/set" --out "$T/x" --methods "=key" -q

# The corpus part: Table I and the Fig. 3 charts from a tiny corpus of the bundled icons.
"$ILDIFF" dataset build --sources "$ILDIFF_TESTDATA/mini_icons.json" --size 32 --count 3 --seed 5 --quiet --out "$T/corpus" \
    >/dev/null 2>&1
expect_exit paper_corpus 0 "$ILDIFF" paper --samples "$T/set" --out "$T/withcorpus" --methods key --corpus "$T/corpus" -q
check table1 grep -q '^| 3 | ' "$T/withcorpus/README.md"
check fig3_charts test -s "$T/withcorpus/corpus/words.png" -a -s "$T/withcorpus/corpus/frames.png"
expect_exit bad_corpus 1 "$ILDIFF" paper --samples "$T/set" --out "$T/badcorpus" --methods key --corpus "$T/nowhere" -q

expect_exit no_out 2 "$ILDIFF" paper --samples "$T/set"
expect_exit no_samples 2 "$ILDIFF" paper --out "$T/x"
expect_exit unknown_method 2 "$ILDIFF" paper --samples "$T/set" --out "$T/x" --methods key,magic
expect_exit twice 1 "$ILDIFF" paper --samples "$T/set" --out "$T/x" --methods key,key -q
expect_exit bad_strip_samples 2 "$ILDIFF" paper --samples "$T/set" --out "$T/x" --strip-samples 9
expect_exit missing_set 1 "$ILDIFF" paper --samples "$T/nowhere" --out "$T/x" -q
mkdir -p "$T/corrupt" && cp -r "$T/set/teal" "$T/corrupt/" && head -c 60 "$T/set/teal/input/001.png" >"$T/corrupt/teal/input/001.png"
expect_exit corrupt_png 1 "$ILDIFF" paper --samples "$T/corrupt" --out "$T/x" -q
grep -q 'input/001.png' "$ILDIFF_TEST_TMP/err.txt" && case_ok corrupt_png_named || case_fail corrupt_png_named "$(cat "$ILDIFF_TEST_TMP/err.txt")"
expect_exit help 0 "$ILDIFF" paper --help
done_cases
