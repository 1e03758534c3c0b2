#!/bin/bash
# test_matte.sh: `ildiff matte` end to end with a tiny randomly initialised model written by test_matte
# (--write-model): plumbing only, the weights are untrained, so matting quality is judged by `ildiff eval
# --method model:FILE`, not here. Cases: the missing default model's message and exit 1, every output format
# (size, frames, timing kept), a frames folder named like the input's, --preset, TTA, --preview (size, errors),
# usage errors, and --batch over a folder with a corrupt file (summary lists it, the others are done, nothing
# half-written), resume that skips finished outputs, --threads 2; and `ildiff eval --method model:FILE`.
. "$(dirname "$0")/lib.sh"
T=$ILDIFF_TEST_TMP/matte
rm -rf "$T"
mkdir -p "$T"
BIN=$(realpath "$ILDIFF")
TESTBIN=$(dirname "$BIN")/tests/test_matte
M=$T/tiny.safetensors
"$TESTBIN" --write-model "$M" || { case_fail write_model "test_matte --write-model failed"; done_cases; exit 1; }

# Inputs: a folder of 3 RGB PNG frames (40x36, a disc over a gradient) named shot1, shot2, shot10; a GIF of them.
/usr/bin/python3 - "$T/frames" <<'PYEOF'
import os, struct, sys, zlib
import numpy as np
def png(path, img):
    h, w = img.shape[:2]
    raw = b"".join(b"\0" + img[y].tobytes() for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
os.makedirs(sys.argv[1])
H, W = 36, 40
yy, xx = np.mgrid[0:H, 0:W]
for i, name in enumerate(["shot1", "shot2", "shot10"]):
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 0] = 200 + xx % 40
    img[..., 1] = 235
    img[..., 2] = 210
    disc = (xx - 12 - 4 * i) ** 2 + (yy - 18) ** 2 < 100
    img[disc] = (220, 60, 30)
    png(os.path.join(sys.argv[1], name + ".png"), img)
PYEOF
"$BIN" convert --quiet "$T/frames" -o "$T/in.gif" || case_fail make_input "convert frames -> gif failed"

# The default model does not exist yet: a plain message, exit 1 (run from a folder without models/).
(cd "$T" && expect_exit default_model_missing 1 "$BIN" matte in.gif -o out.webp)
grep -q 'no model at models/ildiff-default.safetensors: the default model is not trained yet (see models/README.md); pass --model FILE' \
    "$ILDIFF_TEST_TMP/err.txt" && case_ok default_model_message || case_fail default_model_message "$(cat "$ILDIFF_TEST_TMP/err.txt")"

# Every output format: same size and frame count, with alpha (the untrained model's alpha is nowhere 1).
for ext in webp png apng gif webm; do
    expect_exit "format_$ext" 0 "$BIN" matte -q "$T/in.gif" -o "$T/out.$ext" --model "$M"
    info=$("$BIN" info "$T/out.$ext" 2>&1)
    if echo "$info" | grep -q 'size *40x36' && echo "$info" | grep -q 'frames *3$' && echo "$info" | grep -q 'alpha *yes'; then
        case_ok "info_$ext"
    else case_fail "info_$ext" "$info"; fi
done
# Timing kept: the GIF's frame durations come back.
"$BIN" info "$T/in.gif" 2>&1 | grep -i 'duration\|ms' | head -2 >"$T/t_in.txt"
"$BIN" info "$T/out.webp" 2>&1 | grep -i 'duration\|ms' | head -2 >"$T/t_out.txt"
cmp -s "$T/t_in.txt" "$T/t_out.txt" && [ -s "$T/t_in.txt" ] && case_ok timing_kept || case_fail timing_kept "$(cat "$T/t_in.txt" "$T/t_out.txt")"

# An existing output needs -y; the input is never the output.
expect_exit exists_needs_y 1 "$BIN" matte -q "$T/in.gif" -o "$T/out.webp" --model "$M"
expect_exit overwrite_y 0 "$BIN" matte -q -y "$T/in.gif" -o "$T/out.webp" --model "$M"

# A frames folder in: the output folder's frames are named like the input's; a file in: 000000.png ...
expect_exit frames_named 0 "$BIN" matte -q "$T/frames" -o "$T/named/" --model "$M"
[ "$(ls "$T/named" | tr '\n' ' ')" = "shot1.png shot10.png shot2.png " ] && case_ok frames_names ||
    case_fail frames_names "$(ls "$T/named")"
expect_exit frames_numbered 0 "$BIN" matte -q "$T/in.gif" -o "$T/numbered/" --model "$M"
[ "$(ls "$T/numbered" | tr '\n' ' ')" = "000000.png 000001.png 000002.png " ] && case_ok frames_numbers ||
    case_fail frames_numbers "$(ls "$T/numbered")"
expect_exit frames_overwrite 0 "$BIN" matte -q -y "$T/frames" -o "$T/named/" --model "$M"
ls "$T" | grep -q 'tmp' && case_fail no_temp_left "$(ls "$T")" || case_ok no_temp_left

# A preset; a background hint and windows smaller than the clip.
expect_exit preset_whatsapp 0 "$BIN" matte -q "$T/in.gif" -o "$T/wa.webp" --model "$M" --preset whatsapp
"$BIN" info "$T/wa.webp" 2>&1 | grep -q '512x512' && case_ok preset_size || case_fail preset_size "$("$BIN" info "$T/wa.webp" 2>&1)"
# --preview: one PNG, the input and the result over a checkerboard and over black (3 rows) for up to 8 frames
# chosen over the clip (columns), as big as ild_strip_size says: 8 + cols x 152 by 28 + 22 + 3 x 166.
preview_size() { echo "$((8 + $1 * 152))x$((50 + 3 * 166))"; }
expect_exit preview 0 "$BIN" matte -q "$T/in.gif" -o "$T/pv.webp" --model "$M" --preview "$T/pv.png"
info=$("$BIN" info "$T/pv.png" 2>&1)
echo "$info" | grep -q "size *$(preview_size 3)\$" && echo "$info" | grep -q 'frames *1$' && case_ok preview_3_columns ||
    case_fail preview_3_columns "$info"
mkdir -p "$T/ten"
for i in 0 1 2 3 4 5 6 7 8 9; do cp "$T/frames/shot1.png" "$T/ten/f$i.png"; done
expect_exit preview_frames_folder 0 "$BIN" matte "$T/ten/" -o "$T/ten.gif" --model "$M" --preview "$T/ten.png"
grep -q "wrote $T/ten.png: preview of 8 frames" "$ILDIFF_TEST_TMP/err.txt" && case_ok preview_message ||
    case_fail preview_message "$(cat "$ILDIFF_TEST_TMP/err.txt")"
"$BIN" info "$T/ten.png" 2>&1 | grep -q "size *$(preview_size 8)\$" && case_ok preview_8_columns ||
    case_fail preview_8_columns "$("$BIN" info "$T/ten.png" 2>&1)"
# Its errors: an existing preview needs -y; never the input or OUTPUT (usage error when the names are equal);
# a .png name; one input only; no preview when matting fails.
expect_exit preview_exists 1 "$BIN" matte -q "$T/in.gif" -o "$T/pv2.webp" --model "$M" --preview "$T/pv.png"
[ ! -e "$T/pv2.webp" ] && case_ok preview_exists_nothing_written || case_fail preview_exists_nothing_written "pv2.webp written"
expect_exit preview_overwrite 0 "$BIN" matte -q -y "$T/in.gif" -o "$T/pv.webp" --model "$M" --preview "$T/pv.png"
expect_exit preview_is_output 2 "$BIN" matte "$T/in.gif" -o "$T/pv.png" --model "$M" --preview "$T/pv.png"
expect_exit preview_is_input 2 "$BIN" matte "$T/out.png" -o "$T/x.webp" --model "$M" --preview "$T/out.png"
expect_exit preview_same_file_as_input 1 "$BIN" matte -y "$T/out.png" -o "$T/x.webp" --model "$M" --preview "$T/./out.png"
grep -q "out.png: is the input" "$ILDIFF_TEST_TMP/err.txt" && case_ok preview_input_message ||
    case_fail preview_input_message "$(cat "$ILDIFF_TEST_TMP/err.txt")"
expect_exit preview_same_file_as_output 1 "$BIN" matte -y "$T/in.gif" -o "$T/out.png" --model "$M" --preview "$T/./out.png"
expect_exit preview_not_png 2 "$BIN" matte "$T/in.gif" -o "$T/x.webp" --model "$M" --preview "$T/x.gif"
expect_exit preview_batch 2 "$BIN" matte --batch "$T/frames" -o "$T/pvb" --model "$M" --preview "$T/x.png"
expect_exit preview_bad_model 1 "$BIN" matte "$T/in.gif" -o "$T/x.webp" --model "$T/in.gif" --preview "$T/x.png"
[ ! -e "$T/x.png" ] && [ ! -e "$T/x.webp" ] && [ ! -e "$T/pvb" ] && case_ok preview_errors_write_nothing ||
    case_fail preview_errors_write_nothing "$(ls "$T")"

# (TTA itself is tested in test_matte.c; 8 model runs per window are slow in the sanitizer build.)
expect_exit windows_bg 0 "$BIN" matte -q "$T/in.gif" -o "$T/win.webp" --model "$M" --window 2 --overlap 1 \
    --bg '#C8EBD2' --threads 1

# Usage errors: exit 2 before touching anything.
expect_exit bad_tta 2 "$BIN" matte "$T/in.gif" -o "$T/x.webp" --model "$M" --tta 3
expect_exit bad_bg 2 "$BIN" matte "$T/in.gif" -o "$T/x.webp" --model "$M" --bg blue
expect_exit bad_overlap 2 "$BIN" matte "$T/in.gif" -o "$T/x.webp" --model "$M" --window 4 --overlap 4
expect_exit bad_ext 2 "$BIN" matte "$T/in.gif" -o "$T/x.xyz" --model "$M"
expect_exit no_output 2 "$BIN" matte "$T/in.gif" --model "$M"
expect_exit bad_model 1 "$BIN" matte "$T/in.gif" -o "$T/x.webp" --model "$T/in.gif"
[ ! -e "$T/x.webp" ] && case_ok no_output_on_error || case_fail no_output_on_error "x.webp exists"

# --batch: two good files and a corrupt one; the summary lists it, the others are done.
mkdir -p "$T/batch"
cp "$T/in.gif" "$T/batch/a.gif"
cp "$T/out.webp" "$T/batch/b.webp"
head -c 100 "$T/in.gif" >"$T/batch/broken.gif"
expect_exit batch_with_bad_file 1 "$BIN" matte --batch "$T/batch" -o "$T/bout" --model "$M"
grep -q 'broken.gif' "$ILDIFF_TEST_TMP/err.txt" && grep -q 'matted 2, skipped 0 (already done), failed 1' "$ILDIFF_TEST_TMP/err.txt" &&
    case_ok batch_summary || case_fail batch_summary "$(cat "$ILDIFF_TEST_TMP/err.txt")"
[ "$(ls "$T/bout" | tr '\n' ' ')" = "a.webp b.webp " ] && case_ok batch_outputs || case_fail batch_outputs "$(ls -a "$T/bout")"
# Resume: finished outputs are skipped (and not rewritten).
touch -d '2001-01-01' "$T/bout/a.webp"
rm "$T/batch/broken.gif"
expect_exit batch_resume 0 "$BIN" matte --batch "$T/batch" -o "$T/bout" --model "$M"
grep -q 'matted 0, skipped 2 (already done), failed 0' "$ILDIFF_TEST_TMP/err.txt" && case_ok resume_summary ||
    case_fail resume_summary "$(cat "$ILDIFF_TEST_TMP/err.txt")"
[ "$(date -r "$T/bout/a.webp" +%Y)" = 2001 ] && case_ok resume_not_rewritten || case_fail resume_not_rewritten "a.webp rewritten"
rm "$T/bout/b.webp"
expect_exit batch_threads 0 "$BIN" matte -q --batch "$T/batch" -o "$T/bout" --model "$M" --threads 2 -f gif
[ "$(ls -a "$T/bout" | tr '\n' ' ')" = ". .. a.gif a.webp b.gif " ] && case_ok batch_gif_threads || case_fail batch_gif_threads "$(ls -a "$T/bout")"
expect_exit batch_not_dir 1 "$BIN" matte --batch "$T/in.gif" -o "$T/bout2" --model "$M"
expect_exit batch_into_input 1 "$BIN" matte --batch "$T/batch" -o "$T/batch/" --model "$M"

# Under mpirun each of 2 ranks mattes its share; rank 0 prints the job's summary (skipped without mpirun).
if command -v mpirun >/dev/null 2>&1; then
    [ -n "${ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
    cp "$T/in.gif" "$T/batch/c.gif"
    expect_exit batch_mpi_2_ranks 0 timeout 60 mpirun --oversubscribe --allow-run-as-root --mca btl self,vader,tcp \
        --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo --mca btl_vader_single_copy_mechanism none \
        -np 2 "$BIN" matte --batch "$T/batch" -o "$T/mpi" --model "$M"
    [ "$(grep -c 'matted 3, skipped 0 (already done), failed 0 of 3 files' "$ILDIFF_TEST_TMP/err.txt")" = 1 ] &&
        [ "$(ls "$T/mpi" | tr '\n' ' ')" = "a.webp b.webp c.webp " ] && case_ok batch_mpi_summary ||
        case_fail batch_mpi_summary "$(cat "$ILDIFF_TEST_TMP/err.txt"; ls -a "$T/mpi")"
else
    echo "skip batch_mpi: mpirun not found"
fi

# The model as an eval method: `ildiff eval --method model:FILE` runs the matter on each sample.
mkdir -p "$T/set/s1/input" "$T/set/s1/gt_alpha"
cp "$T/frames/"*.png "$T/set/s1/input/"
cp "$T/named/"*.png "$T/set/s1/gt_alpha/"
expect_exit eval_model 0 "$BIN" eval -q --samples "$T/set" --method "model:$M" --out "$T/report"
grep -q 'PSNR' "$ILDIFF_TEST_TMP/stdout.txt" "$ILDIFF_TEST_TMP/err.txt" && case_ok eval_summary ||
    case_fail eval_summary "$(cat "$ILDIFF_TEST_TMP/stdout.txt" "$ILDIFF_TEST_TMP/err.txt")"
expect_exit eval_model_missing 1 "$BIN" eval -q --samples "$T/set" --method "model:$T/none.safetensors" --out "$T/report2"

rm -rf "$T"
done_cases
