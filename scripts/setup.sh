#!/bin/sh
# setup.sh: installs the Debian 12 packages ildiff needs to build, run and test. Idempotent: it runs apt-get only
# when a package is missing. Needs root (or sudo) only in that case.
set -eu

# build and run
RUNTIME="build-essential pkg-config
libwebp-dev libgif-dev libpng-dev libjpeg-dev zlib1g-dev
libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
librlottie-dev librsvg2-dev libcairo2-dev libcjson-dev
libdnnl-dev libopenblas-dev libopenmpi-dev openmpi-bin"
# tests, fuzzing, reference scripts and benchmarks (never needed at run time)
TESTING="clang libclang-rt-14-dev webp gifsicle ffmpeg python3 python3-numpy python3-torch python3-skimage"
# corpus building: emoji art, Chinese names
CORPUS="fonts-noto-color-emoji unicode-cldr-core"

missing=""
for p in $RUNTIME $TESTING $CORPUS; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "setup: all packages present"
    exit 0
fi

echo "setup: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "setup: need root to install:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
echo "setup: done"
