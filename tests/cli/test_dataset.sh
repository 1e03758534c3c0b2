#!/bin/bash
# test_dataset.sh: `ildiff dataset build|stats|export` end to end on the bundled mini icon set (no network):
# a build, the same build again (byte-identical), a resume after a lost shard, Table I and the charts, a contact
# sheet, an export of the test split in the evaluation exchange form (also with -q: silent), and usage errors.
. "$(dirname "$0")/lib.sh"
T=$ILDIFF_TEST_TMP/dataset
SRC=$ILDIFF_TESTDATA/mini_icons.json
mkdir -p "$T"
b() { "$ILDIFF" dataset build --sources "$SRC" --size 32 --shard-size 3 --quiet "$@"; }

check build b --out "$T/a" --count 7 --seed 5
check build_again b --out "$T/b" --count 7 --seed 5 --threads 1
same=1
for f in corpus.json manifest.jsonl shard-00000.tar shard-00001.tar shard-00002.tar; do
    cmp -s "$T/a/$f" "$T/b/$f" || same=0
done
[ "$same" = 1 ] && case_ok same_seed_same_bytes || case_fail same_seed_same_bytes "outputs differ"

rm "$T/b/shard-00001.tar" "$T/b/manifest.jsonl"
echo partial >"$T/b/shard-00002.tar.tmp"
check resume b --out "$T/b" --count 7 --seed 5
cmp -s "$T/a/shard-00001.tar" "$T/b/shard-00001.tar" && cmp -s "$T/a/manifest.jsonl" "$T/b/manifest.jsonl" &&
    case_ok resume_identical || case_fail resume_identical "resumed corpus differs"

lines=$(wc -l <"$T/a/manifest.jsonl")
[ "$lines" = 7 ] && case_ok manifest_lines || case_fail manifest_lines "$lines lines, wanted 7"
tar tf "$T/a/shard-00000.tar" | grep -q '^00000000/mask_000.png$' && tar tf "$T/a/shard-00000.tar" | grep -q '^00000002/meta.json$' &&
    case_ok tar_layout || case_fail tar_layout "$(tar tf "$T/a/shard-00000.tar" | head -3)"

check stats "$ILDIFF" dataset stats --corpus "$T/a" --out "$T/stats"
grep -q '| 7 |' "$T/stats/stats.md" && [ -s "$T/stats/words.png" ] && [ -s "$T/stats/frames.png" ] &&
    case_ok stats_outputs || case_fail stats_outputs "$(cat "$T/stats/stats.md" | head -5)"

# (the sheet's captions go through fontconfig, whose cache tests/lsan.supp exempts under tests/run.sh)
check sheet "$ILDIFF" dataset sheet --corpus "$T/a" --out "$T/sheet.png" --count 5
[ -s "$T/sheet.png" ] && case_ok sheet_written || case_fail sheet_written "no sheet.png"

check build_test b --out "$T/test" --count 3 --seed 5 --split test --cover
check export "$ILDIFF" dataset export --corpus "$T/test" --out "$T/ex"
n=$(ls "$T/ex" | wc -l)
first=$(ls "$T/ex" | head -1)
[ "$n" = 3 ] && [ -f "$T/ex/$first/input/000.png" ] && [ -f "$T/ex/$first/gt_alpha/000.png" ] &&
    [ -f "$T/ex/$first/bg.png" ] && grep -q '"background"' "$T/ex/$first/meta.json" &&
    case_ok export_layout || case_fail export_layout "$n samples; $(ls "$T/ex/$first")"
grep -q 'ex: 3 samples exported' "$ILDIFF_TEST_TMP/out.txt" && case_ok export_summary ||
    case_fail export_summary "$(cat "$ILDIFF_TEST_TMP/out.txt")"
# the outline-on-white tag: exactly the samples with a white outline over a background of at least 240 per channel
check export_outline_tag /usr/bin/python3 -c "
import json, os, sys
root = '$T/ex'
for s in os.listdir(root):
    m = json.load(open(os.path.join(root, s, 'meta.json')))
    c = m['background']['color']
    white = all(int(c[i:i + 2], 16) >= 240 for i in (1, 3, 5))
    assert ('outline-on-white' in m['tags']) == (m['outline'] and white), (s, m['tags'], m['outline'], c)
"
# -q / --quiet: the same export, nothing printed.
expect_exit export_quiet 0 "$ILDIFF" dataset export -q --corpus "$T/test" --out "$T/ex-q"
[ ! -s "$ILDIFF_TEST_TMP/stdout.txt" ] && [ ! -s "$ILDIFF_TEST_TMP/err.txt" ] && [ "$(ls "$T/ex-q" | wc -l)" = 3 ] &&
    case_ok export_quiet_silent || case_fail export_quiet_silent "$(cat "$ILDIFF_TEST_TMP/stdout.txt" "$ILDIFF_TEST_TMP/err.txt")"
expect_exit export_quiet_long 0 "$ILDIFF" dataset export --corpus "$T/test" --out "$T/ex-q2" --quiet
[ ! -s "$ILDIFF_TEST_TMP/err.txt" ] && case_ok export_quiet_long_silent || case_fail export_quiet_long_silent "$(cat "$ILDIFF_TEST_TMP/err.txt")"
expect_exit export_quiet_error 1 "$ILDIFF" dataset export -q --corpus "$T/nonexistent" --out "$T/ex-q3"
grep -q '^ildiff: ' "$ILDIFF_TEST_TMP/err.txt" && case_ok export_quiet_still_errors ||
    case_fail export_quiet_still_errors "no error line"
check export_train_is_empty "$ILDIFF" dataset export --corpus "$T/test" --split train --out "$T/ex-train"
[ -z "$(ls "$T/ex-train")" ] && case_ok export_split_filter || case_fail export_split_filter "train export not empty"

expect_exit no_count 2 "$ILDIFF" dataset build --out "$T/x" --seed 1
expect_exit bad_split 2 "$ILDIFF" dataset build --out "$T/x" --seed 1 --count 2 --split nope
expect_exit unknown_action 2 "$ILDIFF" dataset frobnicate
expect_exit missing_sources 1 "$ILDIFF" dataset build --out "$T/x" --seed 1 --count 2 --sources "$T/nonexistent"
expect_exit other_recipe 1 b --out "$T/a" --count 7 --seed 6
expect_exit stats_not_corpus 1 "$ILDIFF" dataset stats --corpus "$T/nonexistent"
done_cases
