#!/bin/sh
# demo.sh: the README's first command. Converts the bundled Telegram sticker (examples/bounce.tgs, a Lottie
# animation with a transparent background) to a transparent animated WebP within WhatsApp's limits, and says
# what it did. (When the shipped model lands, this becomes: matte examples/bounce_white.gif.)
set -eu
cd "$(dirname "$0")/.."
mkdir -p demo-out
echo "== ildiff info examples/bounce.tgs"
build/ildiff info examples/bounce.tgs
echo "== ildiff convert examples/bounce.tgs -o demo-out/bounce.webp --preset whatsapp -y"
build/ildiff convert examples/bounce.tgs -o demo-out/bounce.webp --preset whatsapp -y
echo "== ildiff info demo-out/bounce.webp"
build/ildiff info demo-out/bounce.webp
