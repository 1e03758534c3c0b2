#!/bin/bash
# test_eval.sh: `ildiff eval` end to end on a tiny exchange-form set made here (2 samples x 3 frames: a ring, so
# an enclosed hole, with white parts, on white), scored with the key and flood baselines and with predictions
# from a folder (ground truth as predictions must give PSNR 60 and SSIM 1); the summary line, the reports, the
# tuning path and the errors.
. "$(dirname "$0")/lib.sh"
T=$ILDIFF_TEST_TMP/eval
rm -rf "$T"
mkdir -p "$T"

# The set: SET/<sample>/{input,gt_alpha,gt_rgba}/NNN.png, bg.png (sample a only), meta.json; PRED_GREY and
# PRED_RGBA hold the ground truth as predictions (grey and RGBA); BADPRED lacks a frame.
/usr/bin/python3 - "$T" "$(dirname "$0")/../reference" <<'EOF'
import json, os, struct, sys, zlib
import numpy as np

sys.path.insert(0, sys.argv[2])
from pngwrite import png

root = sys.argv[1]
H, W = 20, 24
yy, xx = np.mgrid[0:H, 0:W]
for s, (name, shift) in enumerate([("a", 0), ("b", 2)]):
    d = {k: os.path.join(root, "val", name, k) for k in ["input", "gt_alpha", "gt_rgba"]}
    for p in list(d.values()) + [os.path.join(root, k, name) for k in ["pred_grey", "pred_rgba", "badpred"]]:
        os.makedirs(p, exist_ok=True)
    for f in range(3):
        r = np.hypot(yy - H / 2 + 0.5, xx - W / 2 + 0.5 - shift - f)
        alpha = np.clip(8.5 - r, 0, 1) * np.clip(r - 3.5, 0, 1)             # a soft ring around a hole
        colour = np.zeros((H, W, 3)) + [230, 40, 40]
        colour[(yy < H / 2) & (r > 5)] = 255                                # white parts on the ring
        a8 = np.rint(alpha * 255).astype(np.uint8)
        comp = np.rint(colour * alpha[..., None] + 255 * (1 - alpha[..., None]))
        rgba = np.concatenate([colour.astype(np.uint8), a8[..., None]], axis=-1)
        n = "%03d.png" % f
        png(os.path.join(d["input"], n), comp)
        png(os.path.join(d["gt_alpha"], n), a8)
        png(os.path.join(d["gt_rgba"], n), rgba)
        png(os.path.join(root, "pred_grey", name, n), a8)
        png(os.path.join(root, "pred_rgba", name, n), rgba)
        if f < 2:
            png(os.path.join(root, "badpred", name, n), a8)
    if name == "a":
        png(os.path.join(root, "val", name, "bg.png"), np.full((H, W, 3), 255))
        meta = {"tags": ["semi-open", "white parts"], "background": {"kind": "white", "color": "#ffffff"}}
    else:
        meta = {"tags": {"soft alpha": True, "semi_open": False, "motion": "shift"}, "background": "#ffffff"}
    with open(os.path.join(root, "val", name, "meta.json"), "w") as f:
        json.dump(meta, f)
EOF
[ -d "$T/val/a/input" ] || { echo "FAIL make_set"; exit 1; }

NUM='(-?[0-9]+\.[0-9]+|nan)'
SUMMARY="^PSNR $NUM SSIM $NUM MAD $NUM MSE $NUM Grad $NUM Conn $NUM dtSSD $NUM hole $NUM collapse $NUM fps $NUM\$"

# summary_ok NAME FILE: the last stdout line is the summary line.
summary_ok() {
    if tail -1 "$2" | grep -Eq "$SUMMARY"; then case_ok "$1"; else case_fail "$1" "last line: $(tail -1 "$2")"; fi
}
# field FILE NAME: the number after NAME in the summary line.
field() { tail -1 "$1" | awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }

"$ILDIFF" eval --samples "$T/val" --method key --out "$T/r_key" -q >"$T/key.txt" 2>"$T/key.err"
rc=$?
[ $rc = 0 ] && case_ok key_runs || case_fail key_runs "exit $rc: $(head -3 "$T/key.err")"
summary_ok key_summary "$T/key.txt"
hole=$(field "$T/key.txt" hole)
awk -v h="$hole" 'BEGIN { exit !(h < 0.2) }' && case_ok key_clears_holes || case_fail key_clears_holes "hole $hole"
coll=$(field "$T/key.txt" collapse)
awk -v c="$coll" 'BEGIN { exit !(c > 0.5) }' && case_ok key_collapses_white || case_fail key_collapses_white "collapse $coll"
check key_reports test -s "$T/r_key/report.md" -a -s "$T/r_key/report.json"
check key_json /usr/bin/python3 -c "
import json, math, sys
r = json.load(open('$T/r_key/report.json'))
assert r['method'] == 'key' and r['clips'] == 2 and r['frames'] == 6, r
assert set(r['tags']) == {'semi-open', 'white parts', 'soft alpha', 'motion=shift', 'background=white'}, r['tags']
assert r['tags']['semi-open']['clips'] == 1 and r['overall']['clips'] == 2
assert r['overall']['fgrMAD'] is not None and r['fps'] > 0
assert abs(r['overall']['PSNR'] - sum(c['PSNR'] for c in r['per_clip']) / 2) < 1e-9
"
check key_markdown grep -q '^| semi-open | 1 |' "$T/r_key/report.md"

"$ILDIFF" eval --samples "$T/val" --method flood --out "$T/r_flood" -q --threads 2 >"$T/flood.txt" 2>"$T/flood.err"
summary_ok flood_summary "$T/flood.txt"
hole=$(field "$T/flood.txt" hole)
awk -v h="$hole" 'BEGIN { exit !(h > 0.8) }' && case_ok flood_fills_holes || case_fail flood_fills_holes "hole $hole"

for kind in grey rgba; do
    "$ILDIFF" eval --samples "$T/val" --method "dir:$T/pred_$kind" --out "$T/r_$kind" -q >"$T/$kind.txt" 2>"$T/$kind.err"
    summary_ok "dir_${kind}_summary" "$T/$kind.txt"
    # hole and collapse stay a little above 0: the soft ring's faint edge (GT < 0.05) lies in the hole and its
    # near-opaque pixels (GT > 0.95) count for collapse, and a perfect prediction keeps those values
    line=$(tail -1 "$T/$kind.txt")
    if echo "$line" | grep -Eq '^PSNR 60.0000 SSIM 1.0000 MAD 0.0000 MSE 0.0000 Grad 0.0000 Conn 0.0000 dtSSD 0.0000 hole 0.0[01][0-9]* collapse 0.00[0-9]* fps nan$'; then
        case_ok "dir_${kind}_perfect"
    else
        case_fail "dir_${kind}_perfect" "$line $(head -2 "$T/$kind.err")"
    fi
done
check dir_rgba_colour /usr/bin/python3 -c "
import json; r = json.load(open('$T/r_rgba/report.json')); assert r['overall']['fgrMAD'] == 0 and r['fps'] is None"
check dir_grey_no_colour /usr/bin/python3 -c "
import json; r = json.load(open('$T/r_grey/report.json')); assert r['overall']['fgrMAD'] is None"

expect_exit dir_missing_frame 1 "$ILDIFF" eval --samples "$T/val" --method "dir:$T/badpred" --out "$T/r_bad" -q
grep -q '002.png' "$ILDIFF_TEST_TMP/err.txt" && case_ok dir_missing_frame_named || case_fail dir_missing_frame_named "$(cat "$ILDIFF_TEST_TMP/err.txt")"

expect_exit tune_key 0 "$ILDIFF" eval --samples "$T/val" --method key --tune -q
grep -Eq '^key_lo [0-9.]+ key_hi [0-9.]+ PSNR [0-9.]+ clips 2$' "$ILDIFF_TEST_TMP/stdout.txt" && case_ok tune_key_prints ||
    case_fail tune_key_prints "$(cat "$ILDIFF_TEST_TMP/stdout.txt")"
expect_exit tune_flood 0 "$ILDIFF" eval --samples "$T/val" --method flood --tune -q
mkdir -p "$T/my_test_split" && cp -r "$T/val/a" "$T/my_test_split/"
expect_exit tune_refuses_test 1 "$ILDIFF" eval --samples "$T/my_test_split" --method key --tune -q
expect_exit tune_needs_baseline 2 "$ILDIFF" eval --samples "$T/val" --method "dir:$T/pred_grey" --tune

expect_exit set_param 0 "$ILDIFF" eval --samples "$T/val" --method key --set key_lo=0 --set key_hi=5 --out "$T/r_set" -q
expect_exit set_bad_param 2 "$ILDIFF" eval --samples "$T/val" --method key --set key_lo=99 --set key_hi=5
expect_exit no_samples 2 "$ILDIFF" eval --method key
expect_exit unknown_method 2 "$ILDIFF" eval --samples "$T/val" --method magic
expect_exit missing_set 1 "$ILDIFF" eval --samples "$T/nowhere" --method key -q
mkdir -p "$T/corrupt" && cp -r "$T/val/b" "$T/corrupt/" && head -c 60 "$T/val/b/input/001.png" >"$T/corrupt/b/input/001.png"
expect_exit corrupt_png 1 "$ILDIFF" eval --samples "$T/corrupt" --method key --out "$T/r_corrupt" -q
grep -q 'input/001.png' "$ILDIFF_TEST_TMP/err.txt" && case_ok corrupt_png_named || case_fail corrupt_png_named "$(cat "$ILDIFF_TEST_TMP/err.txt")"
mkdir -p "$T/badmeta" && cp -r "$T/val/a" "$T/badmeta/" && echo '{"tags": [' >"$T/badmeta/a/meta.json"
expect_exit bad_meta 1 "$ILDIFF" eval --samples "$T/badmeta" --method key --out "$T/r_meta" -q
expect_exit help 0 "$ILDIFF" eval --help
done_cases
