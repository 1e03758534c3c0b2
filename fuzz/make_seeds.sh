#!/bin/bash
# make_seeds.sh DIR: writes a small valid seed file per fuzzed format into DIR/<format>/ (16x16 to 64x64, a few
# frames), made with ffmpeg, img2webp and gzip from lavfi test sources and an inline Lottie/SVG document.
# Idempotent: a format whose folder already has files is skipped.
set -eu
out=$1
mk() { mkdir -p "$out/$1"; [ -z "$(ls -A "$out/$1")" ]; }
ff() { ffmpeg -nostdin -loglevel error -y "$@"; }
src="testsrc2=size=32x24:rate=10:duration=0.3"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if mk gif; then
    ff -f lavfi -i "$src" "$out/gif/testsrc.gif"
    ff -f lavfi -i "color=c=red@0.0:size=16x16:rate=5:duration=0.4,format=rgba,drawbox=x=4:y=4:w=8:h=8:c=blue:t=fill" \
        -gifflags -transdiff "$out/gif/transparent.gif"
fi
if mk png; then
    ff -f lavfi -i "$src" -frames:v 1 "$out/png/still.png"
    ff -f lavfi -i "$src,format=rgba" -plays 0 -f apng "$out/png/anim.apng"
fi
if mk jpeg; then ff -f lavfi -i "$src" -frames:v 1 "$out/jpeg/still.jpg"; fi
if mk video; then
    ff -f lavfi -i "$src" -pix_fmt yuv420p -c:v libx264 -preset ultrafast "$out/video/testsrc.mp4"
    ff -f lavfi -i "$src" -c:v mpeg4 "$out/video/testsrc.mkv"
fi
if mk webm; then
    ff -f lavfi -i "$src,format=yuva420p" -c:v libvpx-vp9 -auto-alt-ref 0 -b:v 0 -crf 40 "$out/webm/alpha.webm"
fi
if mk webp; then
    ff -f lavfi -i "$src,format=rgba" -frames:v 3 "$tmp/f%d.png"
    img2webp -loop 0 -lossy -d 100 "$tmp/f1.png" "$tmp/f2.png" -lossless "$tmp/f3.png" -o "$out/webp/anim.webp" >/dev/null 2>&1
    cwebp -quiet -q 50 "$tmp/f1.png" -o "$out/webp/still.webp"
fi
lottie='{"v":"5.5.2","fr":10,"ip":0,"op":5,"w":32,"h":32,"nm":"s","ddd":0,"assets":[],"layers":[{"ddd":0,"ind":1,"ty":4,"nm":"box","sr":1,"ks":{"o":{"a":0,"k":100},"r":{"a":1,"k":[{"t":0,"s":[0],"e":[90],"i":{"x":[0.5],"y":[0.5]},"o":{"x":[0.5],"y":[0.5]}},{"t":5,"s":[90]}]},"p":{"a":0,"k":[16,16,0]},"a":{"a":0,"k":[0,0,0]},"s":{"a":0,"k":[100,100,100]}},"ao":0,"shapes":[{"ty":"gr","it":[{"ty":"rc","d":1,"s":{"a":0,"k":[12,12]},"p":{"a":0,"k":[0,0]},"r":{"a":0,"k":2}},{"ty":"fl","c":{"a":0,"k":[0.9,0.2,0.1,1]},"o":{"a":0,"k":100}},{"ty":"tr","p":{"a":0,"k":[0,0]},"a":{"a":0,"k":[0,0]},"s":{"a":0,"k":[100,100]},"r":{"a":0,"k":0},"o":{"a":0,"k":100}}]}],"ip":0,"op":5,"st":0,"bm":0}]}'
if mk lottie; then printf '%s' "$lottie" >"$out/lottie/box.json"; fi
if mk tgs; then printf '%s' "$lottie" | gzip -9 >"$out/tgs/box.tgs"; fi
if mk svg; then
    printf '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="24"><circle cx="16" cy="12" r="8" fill="#0a0" fill-opacity="0.5"/></svg>' \
        >"$out/svg/circle.svg"
fi
