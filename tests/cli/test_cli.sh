# test_cli.sh: the `ildiff` command line: --help/--version, every usage and processing error path (exit status,
# one-line "ildiff: FILE: reason" message, nothing left behind), plain conversions, and the platform presets checked
# with independent tools (ffprobe for Telegram's WebM, webpmux for WhatsApp's WebP). The issue's done-when case:
# a GIF, an MP4 and a TGS each become a Telegram WebM and a WhatsApp WebP within the platforms' limits.
. "$(dirname "$0")/lib.sh"

D="$ILDIFF_TEST_TMP/cli"
OUT="$D/out"
rm -rf "$D"
mkdir -p "$D" "$OUT"
ff() { ffmpeg -nostdin -loglevel error -y "$@"; }

# Inputs: a 50 fps GIF (Telegram must lower it to 30), a 3.5 s MP4 (Telegram must cut it to 3 s), a 512x512 TGS,
# all simple moving shapes so each preset fits at once; busy.mp4 is too detailed for the limits the search tests set.
ff -f lavfi -i "color=c=white:s=96x64:r=50:d=1[b];color=c=red:s=16x16:r=50[f];[b][f]overlay=x='t*60':y=20:shortest=1" "$D/in.gif"
ff -f lavfi -i "color=c=0x3060a0:s=160x120:r=20:d=3.5[b];color=c=yellow:s=32x32:r=20[f];[b][f]overlay=x='t*30':y='40+10*sin(t*3)':shortest=1" \
    -pix_fmt yuv420p -c:v libx264 -preset ultrafast "$D/in.mp4"
ff -f lavfi -i "testsrc=size=160x120:rate=15:duration=1" -pix_fmt yuv420p -c:v libx264 -preset ultrafast "$D/busy.mp4"
cat >"$D/box.json" <<'EOF'
{"v":"5.5.2","fr":30,"ip":0,"op":30,"w":512,"h":512,"nm":"box","ddd":0,"assets":[],"layers":[{"ddd":0,"ind":1,"ty":4,"nm":"box","sr":1,"ks":{"o":{"a":0,"k":100},"r":{"a":1,"k":[{"t":0,"s":[0],"e":[90],"i":{"x":[0.5],"y":[0.5]},"o":{"x":[0.5],"y":[0.5]}},{"t":30,"s":[90]}]},"p":{"a":0,"k":[256,256,0]},"a":{"a":0,"k":[0,0,0]},"s":{"a":0,"k":[100,100,100]}},"ao":0,"shapes":[{"ty":"gr","it":[{"ty":"rc","d":1,"s":{"a":0,"k":[240,240]},"p":{"a":0,"k":[0,0]},"r":{"a":0,"k":30}},{"ty":"fl","c":{"a":0,"k":[0.9,0.3,0.1,1]},"o":{"a":0,"k":100}},{"ty":"tr","p":{"a":0,"k":[0,0]},"a":{"a":0,"k":[0,0]},"s":{"a":0,"k":[100,100]},"r":{"a":0,"k":0},"o":{"a":0,"k":100}}]}],"ip":0,"op":30,"st":0,"bm":0}]}
EOF
gzip -9c "$D/box.json" >"$D/box.tgs"
printf 'this is not an animation\n' >"$D/notes.txt"
{ printf 'GIF89a\x10\x00\x10\x00\xf0\x00\x00'; head -c 300 /dev/urandom; } >"$D/corrupt.gif"
head -c $(($(stat -c %s "$D/in.gif") / 2)) "$D/in.gif" >"$D/truncated.gif"
head -c 20 "$D/in.mp4" >"$D/truncated.mp4"
mkdir -p "$D/emptydir"

# one_line_error NAME FILE: the last command's stderr is exactly one line "ildiff: FILE: reason".
one_line_error() {
    local n lines
    lines=$(wc -l <"$ILDIFF_TEST_TMP/err.txt")
    n=$1
    if [ "$lines" = 1 ] && grep -q "^ildiff: $2: ." "$ILDIFF_TEST_TMP/err.txt"; then case_ok "$n"; else
        case_fail "$n" "stderr: $(head -3 "$ILDIFF_TEST_TMP/err.txt")"; fi
}
# nothing_left NAME: the output folder holds no file (no output, no temporary).
nothing_left() {
    if [ -z "$(ls -A "$OUT")" ]; then case_ok "$1"; else case_fail "$1" "left behind: $(ls -A "$OUT")"; fi
}
# fails NAME CODE FILE ARGS...: exit CODE, a one-line message about FILE, nothing written.
fails() {
    local n=$1 code=$2 file=$3
    shift 3
    expect_exit "$n" "$code" "$ILDIFF" "$@"
    [ "$code" = 1 ] && one_line_error "$n/message" "$file"
    nothing_left "$n/clean"
}

# --- help and version: stdout, exit 0
for args in "--help" "--version" "convert --help" "info --help"; do
    # shellcheck disable=SC2086
    expect_exit "help: $args" 0 "$ILDIFF" $args
    if [ -s "$ILDIFF_TEST_TMP/stdout.txt" ] && [ ! -s "$ILDIFF_TEST_TMP/err.txt" ]; then case_ok "help: $args/stdout"; else
        case_fail "help: $args/stdout" "expected output on stdout only"; fi
done
grep -q "telegram" <("$ILDIFF" convert --help) && case_ok "help lists presets" || case_fail "help lists presets" "no telegram"
expect_exit "no command" 2 "$ILDIFF"
expect_exit "unknown command" 2 "$ILDIFF" frobnicate

# --- processing errors: exit 1, one line naming the file, nothing left behind
fails "missing input" 1 "$D/nope.gif" convert "$D/nope.gif" -o "$OUT/a.webp"
fails "input is an empty directory" 1 "$D/emptydir" convert "$D/emptydir" -o "$OUT/a.webp"
fails "unknown input format" 1 "$D/notes.txt" convert "$D/notes.txt" -o "$OUT/a.webp"
fails "corrupt gif" 1 "$D/corrupt.gif" convert "$D/corrupt.gif" -o "$OUT/a.webp"
fails "truncated gif" 1 "$D/truncated.gif" convert "$D/truncated.gif" -o "$OUT/a.webp"
fails "truncated mp4" 1 "$D/truncated.mp4" convert "$D/truncated.mp4" -o "$OUT/a.webp"
fails "over the width limit" 1 "$D/in.gif" convert --max-width 50 "$D/in.gif" -o "$OUT/a.webp"
fails "over the frame limit" 1 "$D/in.gif" convert --max-frames 10 "$D/in.gif" -o "$OUT/a.webp"
fails "over the byte limit" 1 "$D/in.gif" convert --max-bytes 100 "$D/in.gif" -o "$OUT/a.webp"
fails "output in a missing folder" 1 "$D/nodir/a.webp" convert "$D/in.gif" -o "$D/nodir/a.webp"
fails "cannot fit the byte target" 1 "$OUT/a.webp" convert "$D/in.gif" -o "$OUT/a.webp" --preset whatsapp --max-bytes-out 100 --quiet
grep -q "cannot fit" "$ILDIFF_TEST_TMP/err.txt" && case_ok "nofit reason" || case_fail "nofit reason" "$(cat "$ILDIFF_TEST_TMP/err.txt")"
fails "info on a missing file" 1 "$D/nope.gif" info "$D/nope.gif"

# output == input, with and without -y: refused, input untouched
cp "$D/in.gif" "$D/self.gif"
sum=$(md5sum <"$D/self.gif")
expect_exit "output is input" 1 "$ILDIFF" convert "$D/self.gif" -o "$D/self.gif" -f gif -y
one_line_error "output is input/message" "$D/self.gif"
expect_exit "output is input via another path" 1 "$ILDIFF" convert "$D/self.gif" -o "$D/../cli/self.gif" -f gif -y
[ "$(md5sum <"$D/self.gif")" = "$sum" ] && case_ok "input untouched" || case_fail "input untouched" "changed"
ls "$D" | grep -q tmp- && case_fail "no temporaries next to input" "$(ls "$D")" || case_ok "no temporaries next to input"

# output exists: refused without -y (file unchanged), replaced with -y
echo keep >"$OUT/exists.webp"
expect_exit "output exists" 1 "$ILDIFF" convert "$D/in.gif" -o "$OUT/exists.webp"
one_line_error "output exists/message" "$OUT/exists.webp"
[ "$(cat "$OUT/exists.webp")" = keep ] && case_ok "existing output untouched" || case_fail "existing output untouched" "changed"
expect_exit "output exists with -y" 0 "$ILDIFF" convert "$D/in.gif" -o "$OUT/exists.webp" -y --quiet
[ "$(head -c 4 "$OUT/exists.webp")" = RIFF ] && case_ok "-y replaced it" || case_fail "-y replaced it" "not a WebP"
[ ! -s "$ILDIFF_TEST_TMP/err.txt" ] && case_ok "--quiet is quiet" || case_fail "--quiet is quiet" "$(cat "$ILDIFF_TEST_TMP/err.txt")"
rm -f "$OUT"/*

# --- usage errors: exit 2, nothing written
u() { local n=$1; shift; expect_exit "usage: $n" 2 "$ILDIFF" convert "$@"; nothing_left "usage: $n/clean"; }
u "no input" -o "$OUT/a.webp"
u "no output" "$D/in.gif"
u "two inputs" "$D/in.gif" "$D/in.mp4" -o "$OUT/a.webp"
u "unknown option" "$D/in.gif" -o "$OUT/a.webp" --frobnicate
u "missing value" "$D/in.gif" -o
u "unknown preset" "$D/in.gif" -o "$OUT/a.webp" --preset myspace
u "unknown format" "$D/in.gif" -o "$OUT/a.out" -f bmp
u "unwritable format" "$D/in.gif" -o "$OUT/a.jpg"
u "no format from name" "$D/in.gif" -o "$OUT/a.xyz"
u "preset vs extension" "$D/in.gif" -o "$OUT/a.webp" --preset telegram
u "preset vs -f" "$D/in.gif" -o "$OUT/a" --preset telegram -f gif
u "size with preset" "$D/in.gif" -o "$OUT/a.webp" --preset whatsapp --size 100x100
for bad in "-q 101" "-q abc" "--alpha-quality -1" "--method 7" "--fps 0" "--fps x" "--size 0x0" "--size 12" \
    "--size axb" "--loop -1" "--gif-threshold 0" "--matte #zzzzzz" "--matte 12345" "--max-bytes-out 0" "--max-width 0" \
    "--kmin -3"; do
    # shellcheck disable=SC2086
    u "bad value $bad" "$D/in.gif" -o "$OUT/a.webp" $bad
done
expect_exit "info usage: no file" 2 "$ILDIFF" info
expect_exit "info usage: unknown option" 2 "$ILDIFF" info --frobnicate "$D/in.gif"

# --- plain conversions, checked by reading the outputs back
check "gif to webp" "$ILDIFF" convert "$D/in.gif" -o "$OUT/a.webp" --quiet
check "gif to apng with size and fps" "$ILDIFF" convert "$D/in.gif" -o "$OUT/b.png" --size 48x48 --fps 10 --loop 2
"$ILDIFF" info --json "$OUT/b.png" >"$D/b.json"
grep -q '"width":48,"height":48,"frames":10,"duration_ms":1000' "$D/b.json" && grep -q '"loop_count":2' "$D/b.json" &&
    case_ok "apng size, fps, loop" || case_fail "apng size, fps, loop" "$(cat "$D/b.json")"
check "gif to gif with matte" "$ILDIFF" convert "$D/in.gif" -o "$OUT/c.gif" --matte '#000000' --gif-dither --size 48x0
"$ILDIFF" info --json "$OUT/c.gif" | grep -q '"width":48,"height":32' && case_ok "gif width-only size" ||
    case_fail "gif width-only size" "$("$ILDIFF" info "$OUT/c.gif")"
check "gif to frames" "$ILDIFF" convert "$D/in.gif" -o "$OUT/frames/" --fps 25
[ "$(ls "$OUT/frames" | wc -l)" = 25 ] && case_ok "frames written" || case_fail "frames written" "$(ls "$OUT/frames" | wc -l) files"
check "mp4 to webm" "$ILDIFF" convert "$D/in.mp4" -o "$OUT/d.webm" -q 30
check "info on every output" "$ILDIFF" info "$OUT/a.webp" "$OUT/b.png" "$OUT/c.gif" "$OUT/d.webm" "$OUT/frames"
check "byte target without preset" "$ILDIFF" convert "$D/in.mp4" -o "$OUT/e.webp" --max-bytes-out 60000
[ "$(stat -c %s "$OUT/e.webp")" -le 60000 ] && case_ok "byte target met" || case_fail "byte target met" "$(stat -c %s "$OUT/e.webp")"
ls "$OUT" | grep -q tmp- && case_fail "no temporaries after success" "$(ls "$OUT")" || case_ok "no temporaries after success"

# --- presets against the platform limits, read by independent tools
# telegram_ok NAME FILE: VP9 video only, alpha, one side 512 and the other <= 512, <= 3 s, <= 30 fps, <= 256 KB.
telegram_ok() {
    local n=$1 f=$2 info why=""
    info=$(ffprobe -v error -count_frames -show_entries stream=codec_type,codec_name,width,height,nb_read_frames:stream_tags=alpha_mode:format=duration \
        -of default=nw=1 "$f")
    local codec w h frames dur audio alpha
    codec=$(sed -n 's/^codec_name=//p' <<<"$info" | head -1)
    w=$(sed -n 's/^width=//p' <<<"$info")
    h=$(sed -n 's/^height=//p' <<<"$info")
    frames=$(sed -n 's/^nb_read_frames=//p' <<<"$info")
    dur=$(sed -n 's/^duration=//p' <<<"$info" | tail -1)
    alpha=$(sed -n 's/^TAG:alpha_mode=//p' <<<"$info")
    audio=$(grep -c '^codec_type=audio' <<<"$info")
    [ "$codec" = vp9 ] || why="$why codec $codec;"
    [ "$(grep -c '^codec_type=' <<<"$info")" = 1 ] && [ "$audio" = 0 ] || why="$why not exactly one video stream;"
    [ "$alpha" = 1 ] || why="$why alpha_mode '$alpha';"
    { [ "$w" = 512 ] && [ "$h" -le 512 ]; } || { [ "$h" = 512 ] && [ "$w" -le 512 ]; } || why="$why size ${w}x$h;"
    awk -v d="$dur" 'BEGIN { exit !(d > 0 && d <= 3.0) }' || why="$why duration $dur;"
    awk -v d="$dur" -v n="$frames" 'BEGIN { exit !(n / d <= 30.5) }' || why="$why $frames frames in $dur s;"
    [ "$(stat -c %s "$f")" -le 256000 ] || why="$why $(stat -c %s "$f") bytes;"
    if [ -z "$why" ]; then case_ok "$n"; else case_fail "$n" "$why"; fi
}
# whatsapp_ok NAME FILE: animated WebP, 512x512 canvas, <= 500 KB, every frame >= 8 ms, <= 10 s in total.
whatsapp_ok() {
    local n=$1 f=$2 info why=""
    info=$(webpmux -info "$f")
    grep -q '^Canvas size: 512 x 512' <<<"$info" || why="$why $(grep Canvas <<<"$info");"
    grep -q 'animation' <<<"$info" || why="$why not animated;"
    local durs
    durs=$(awk '$1 ~ /^[0-9]+:$/ { print $7 }' <<<"$info")
    [ -n "$durs" ] || why="$why no frames listed;"
    awk 'BEGIN { t = 0 } { if ($1 < 8) bad = 1; t += $1 } END { exit !(bad != 1 && t <= 10000) }' <<<"$durs" ||
        why="$why frame durations $(tr '\n' ' ' <<<"$durs");"
    [ "$(stat -c %s "$f")" -le 500000 ] || why="$why $(stat -c %s "$f") bytes;"
    if [ -z "$why" ]; then case_ok "$n"; else case_fail "$n" "$why"; fi
}
for src in in.gif in.mp4 box.tgs; do
    check "telegram from $src" "$ILDIFF" convert "$D/$src" -o "$OUT/$src.webm" --preset telegram
    telegram_ok "telegram limits for $src" "$OUT/$src.webm"
    check "whatsapp from $src" "$ILDIFF" convert "$D/$src" -o "$OUT/$src.webp" --preset whatsapp
    whatsapp_ok "whatsapp limits for $src" "$OUT/$src.webp"
done
grep -q "^wrote $OUT/box.tgs.webp: 512x512, 30 frames, 1.0 s, .* (preset whatsapp: fits 500 KB" "$ILDIFF_TEST_TMP/out.txt" &&
    case_ok "summary line" || case_fail "summary line" "$(tail -1 "$ILDIFF_TEST_TMP/out.txt")"
# a byte limit that forces the search to lower the quality, still within every WhatsApp rule
check "whatsapp squeezed" "$ILDIFF" convert "$D/busy.mp4" -o "$OUT/squeezed.webp" --preset whatsapp --max-bytes-out 60000
whatsapp_ok "whatsapp squeezed limits" "$OUT/squeezed.webp"
[ "$(stat -c %s "$OUT/squeezed.webp")" -le 60000 ] && grep -q "at quality" "$ILDIFF_TEST_TMP/out.txt" &&
    case_ok "squeeze reported" || case_fail "squeeze reported" "$(tail -1 "$ILDIFF_TEST_TMP/out.txt")"
check "signal" "$ILDIFF" convert "$D/in.gif" -o "$OUT/s.png" --preset signal
"$ILDIFF" info --json "$OUT/s.png" | grep -q '"format":"apng","width":512,"height":512.*"loop_count":0' &&
    [ "$(stat -c %s "$OUT/s.png")" -le 307200 ] && case_ok "signal limits" || case_fail "signal limits" "$("$ILDIFF" info "$OUT/s.png")"
# Signal may shrink the square to meet a byte limit
check "signal squeezed" "$ILDIFF" convert "$D/in.gif" -o "$OUT/s2.png" --preset signal --max-bytes-out 20000
"$ILDIFF" info --json "$OUT/s2.png" >"$D/s2.json"
w=$(grep -o '"width":[0-9]*' "$D/s2.json" | cut -d: -f2)
grep -q "\"height\":$w," "$D/s2.json" && [ "$w" -lt 512 ] && [ "$(stat -c %s "$OUT/s2.png")" -le 20000 ] &&
    case_ok "signal squeezed limits" || case_fail "signal squeezed limits" "$(cat "$D/s2.json")"
check "line" "$ILDIFF" convert "$D/in.mp4" -o "$OUT/l.png" --preset line
"$ILDIFF" info --json "$OUT/l.png" | grep -qE '"width":320,"height":240,"frames":([5-9]|1[0-9]|20),"duration_ms":(1000|2000|3000|4000),' &&
    case_ok "line limits" || case_fail "line limits" "$("$ILDIFF" info "$OUT/l.png")"
ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 "$OUT/l.png" | grep -q '^apng,320,240' &&
    case_ok "line apng read by ffprobe" || case_fail "line apng read by ffprobe" "$(ffprobe -v error -show_entries stream=codec_name -of csv "$OUT/l.png")"
ls "$OUT" | grep -q tmp- && case_fail "no temporaries after presets" "$(ls "$OUT")" || case_ok "no temporaries after presets"

done_cases
