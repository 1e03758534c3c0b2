#!/bin/bash
# test_stages.sh: the model stages through `ildiff train` on a tiny corpus built from the bundled mini icon set,
# with the tests' tiny model sizes: S0, then S1 from S0's model (--init), S2a, S2b from S2a's, S3 from S1's and
# S2b's at depth 0; a model stage without its --init, or a corpus folder that is not one, is a clean error; S1
# on 2 MPI ranks ends with the model of 1 process (when mpirun is installed).
. "$(dirname "$0")/lib.sh"
T=$ILDIFF_TEST_TMP/stages
rm -rf "$T"
mkdir -p "$T/c"
b() { "$ILDIFF" dataset build --sources "$ILDIFF_TESTDATA/mini_icons.json" --size 32 --shard-size 3 --quiet "$@"; }
tr() { "$ILDIFF" train --tiny --threads 1 --batch 2 --steps 3 --val-every 3 -q --corpus "$T/c/train" "$@"; }

check corpus_train b --out "$T/c/train" --count 4 --seed 2
check corpus_val b --out "$T/c/val" --count 2 --seed 2 --split val
check s0 tr --stage S0 --size 16 --out "$T/s0"
check s1 tr --stage S1 --size 16 --out "$T/s1" --init "$T/s0/model.safetensors"
grep -q '"kind":"val".*alpha_psnr' "$T/s1/train.jsonl" && case_ok s1_validates ||
    case_fail s1_validates "$(tail -2 "$T/s1/train.jsonl")"
check s2a tr --stage S2a --size 16 --out "$T/s2a"
check s2b tr --stage S2b --out "$T/s2b" --init "$T/s2a/model.safetensors"
check s3 tr --stage S3 --size 16 --frames 2 --depth 0 --out "$T/s3" --init "$T/s1/model.safetensors" \
    --init "$T/s2b/model.safetensors"
[ -s "$T/s3/model.safetensors" ] && case_ok s3_model || case_fail s3_model "$(ls "$T/s3")"

# `ildiff model pack`: the runs become model files `ildiff matte` reads (S3's own depth; S1 + S2b without adapter)
M=$T/models
mkdir -p "$M"
cp examples/bounce_white.gif "$T/clip.gif"
expect_exit pack_s3 0 "$ILDIFF" model pack --from "$T/s3/model.safetensors" -o "$M/d0.safetensors"
grep -q 'temporal depth 0$' "$ILDIFF_TEST_TMP/stdout.txt" && case_ok pack_s3_depth ||
    case_fail pack_s3_depth "$(cat "$ILDIFF_TEST_TMP/stdout.txt")"
expect_exit pack_info 0 "$ILDIFF" model info "$M/d0.safetensors"
grep -q '"depth":0' "$ILDIFF_TEST_TMP/stdout.txt" && case_ok pack_info_config || case_fail pack_info_config "$(cat "$ILDIFF_TEST_TMP/stdout.txt")"
expect_exit pack_no_adapter 0 "$ILDIFF" model pack --no-adapter --from "$T/s1/model.safetensors" \
    --from "$T/s2b/model.safetensors" -o "$M/ld.safetensors" --dtype f32
expect_exit matte_packed 0 "$ILDIFF" matte "$T/clip.gif" -o "$T/clip.webp" --model "$M/d0.safetensors" -q
expect_exit matte_packed_ld 0 "$ILDIFF" matte "$T/clip.gif" -o "$T/clip-ld.webp" --model "$M/ld.safetensors" -q
expect_exit pack_needs_student 1 "$ILDIFF" model pack --from "$T/s1/model.safetensors" --depth 5 -o "$M/x.safetensors"
grep -q 'no --from file has student' "$ILDIFF_TEST_TMP/err.txt" && case_ok pack_needs_student_message ||
    case_fail pack_needs_student_message "$(cat "$ILDIFF_TEST_TMP/err.txt")"
expect_exit pack_needs_depth 1 "$ILDIFF" model pack --from "$T/s1/model.safetensors" -o "$M/x.safetensors"
expect_exit pack_no_overwrite 1 "$ILDIFF" model pack --from "$T/s3/model.safetensors" -o "$M/d0.safetensors"
expect_exit pack_overwrite 0 "$ILDIFF" model pack --from "$T/s3/model.safetensors" -o "$M/d0.safetensors" -y
expect_exit pack_onto_input 1 "$ILDIFF" model pack --from "$T/s3/model.safetensors" -o "$T/s3/model.safetensors" -y
expect_exit pack_bad_depth 2 "$ILDIFF" model pack --from "$T/s3/model.safetensors" -o "$M/y.safetensors" --depth 4
expect_exit pack_bad_dtype 2 "$ILDIFF" model pack --from "$T/s3/model.safetensors" -o "$M/y.safetensors" --dtype f8
expect_exit pack_no_from 2 "$ILDIFF" model pack -o "$M/y.safetensors"
expect_exit pack_missing_file 1 "$ILDIFF" model pack --from "$T/nowhere.safetensors" -o "$M/y.safetensors"
expect_exit pack_not_safetensors 1 "$ILDIFF" model pack --from "$T/clip.gif" -o "$M/y.safetensors"
expect_exit info_not_model 1 "$ILDIFF" model info "$T/s3/model.safetensors"
expect_exit model_no_sub 2 "$ILDIFF" model
expect_exit model_bad_sub 2 "$ILDIFF" model frobnicate
expect_exit model_help 0 "$ILDIFF" model --help
[ ! -e "$M/y.safetensors" ] && case_ok pack_errors_write_nothing || case_fail pack_errors_write_nothing "$(ls "$M")"

expect_exit s1_needs_init 1 tr --stage S1 --size 16 --out "$T/x"
grep -q -- '--init' "$ILDIFF_TEST_TMP/err.txt" && case_ok s1_needs_init_message ||
    case_fail s1_needs_init_message "$(cat "$ILDIFF_TEST_TMP/err.txt")"
expect_exit not_a_corpus 1 "$ILDIFF" train --stage S0 --tiny --out "$T/y" --corpus "$T"

# data parallel: S1 on 2 ranks (one frame each) trains like 1 process with both frames
if command -v mpirun >/dev/null 2>&1; then
    [ -n "${ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
    MPIRUN=(timeout 60 mpirun --oversubscribe --allow-run-as-root --mca btl self,vader,tcp --mca btl_tcp_if_include lo
            --mca oob_tcp_if_include lo --mca btl_vader_single_copy_mechanism none)
    check s1_2_ranks "${MPIRUN[@]}" -np 2 "$ILDIFF" train --tiny --threads 1 --batch 2 --steps 3 --val-every 3 -q \
        --corpus "$T/c/train" --stage S1 --size 16 --out "$T/s1-mpi" --init "$T/s0/model.safetensors"
    why=$(/usr/bin/python3 - "$T/s1/model.safetensors" "$T/s1-mpi/model.safetensors" 2>&1 <<'PY'
import json, struct, sys
import numpy as np
def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    head.pop("__metadata__", None)
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], np.float32) for k, v in head.items()}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), "different tensors"
worst = max(float(np.max(np.abs(a[k] - b[k]))) / max(float(np.max(np.abs(a[k]))), 1e-3) for k in a)
assert worst < 1e-5, "max relative difference %g" % worst
PY
)
    [ -z "$why" ] && case_ok s1_2_ranks_like_1_process || case_fail s1_2_ranks_like_1_process "$why"
else
    echo "skip the MPI case: mpirun not found"
fi
done_cases
