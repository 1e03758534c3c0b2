#!/bin/sh
# demo.sh: the README's first command (`make demo`). Mattes the bundled example, a sticker on a white background
# (examples/bounce_white.gif), with the shipped default model into a transparent animated WebP within WhatsApp's
# limits, writes a preview picture of the result, and says what it did. Outputs go to demo-out/ (replaced on
# every run). ILDIFF=path/to/ildiff runs another build (default build/ildiff).
set -eu
cd "$(dirname "$0")/.."
ILDIFF=${ILDIFF:-build/ildiff}
MODEL=models/ildiff-default.safetensors
if [ ! -f "$MODEL" ]; then
    echo "demo: $MODEL is missing (the default model is not shipped yet; see models/README.md)" >&2
    exit 1
fi
mkdir -p demo-out
set -- examples/bounce_white.gif -o demo-out/bounce.webp --preset whatsapp --preview demo-out/bounce-preview.png -y
echo "== ildiff matte $*"
"$ILDIFF" matte "$@"
echo "== ildiff info demo-out/bounce.webp"
"$ILDIFF" info demo-out/bounce.webp
echo "== done"
echo "sticker: demo-out/bounce.webp"
echo "preview: demo-out/bounce-preview.png (input, result over a checkerboard, result over black)"
