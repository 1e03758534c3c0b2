#!/bin/bash
# test_floor.sh: the shipped default model (models/ildiff-default.safetensors) on the committed validation clips of
# tests/data/matte_floor (5 clips x 6 frames, 128x128; made by tests/reference/make_floor_set.py), scored by
# `ildiff eval`: fails when its quality drops under the floors below. The floors sit a margin under what the
# shipped model measured when it was committed (2026-11-25: PSNR 17.90, SSIM 0.869, hole residue 0.587; models/README.md),
# so a broken model file, loader, kernel or matting path fails here loudly (an all-transparent or random output
# scores far under them).
. "$(dirname "$0")/lib.sh"
T=$ILDIFF_TEST_TMP/floor
rm -rf "$T"
mkdir -p "$T"
MODEL=${ILDIFF_MODEL:-models/ildiff-default.safetensors}
SET=$ILDIFF_TESTDATA/matte_floor
FLOOR_PSNR=17.0
FLOOR_SSIM=0.85
CEIL_HOLE=0.75

check model_present test -s "$MODEL"
expect_exit eval_model 0 "$ILDIFF" eval --samples "$SET" --method "model:$MODEL" --out "$T/model" -q
cp "$ILDIFF_TEST_TMP/stdout.txt" "$T/model.txt"
# metric NAME: the value after NAME in the summary line (the last line)
metric() { tail -1 "$T/model.txt" | awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }
psnr=$(metric PSNR) ssim=$(metric SSIM) hole=$(metric hole)
echo "# model: PSNR $psnr SSIM $ssim hole $hole"
above() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a + 0 == a && a >= b)}' </dev/null; }
above "$psnr" "$FLOOR_PSNR" && case_ok psnr_floor || case_fail psnr_floor "PSNR $psnr < floor $FLOOR_PSNR"
above "$ssim" "$FLOOR_SSIM" && case_ok ssim_floor || case_fail ssim_floor "SSIM $ssim < floor $FLOOR_SSIM"
above "$CEIL_HOLE" "$hole" && case_ok hole_ceiling || case_fail hole_ceiling "hole residue $hole > $CEIL_HOLE"

# The same model through `ildiff matte` from a GIF: the output has real transparency, frame count and timing kept.
expect_exit matte_gif 0 "$ILDIFF" matte examples/bounce_white.gif -o "$T/bounce.webp" -q --model "$MODEL"
"$ILDIFF" info "$T/bounce.webp" >"$T/info.txt" 2>&1
check matte_frames grep -q '^  frames    16$' "$T/info.txt"
check matte_alpha grep -q '^  alpha     yes' "$T/info.txt"
done_cases
