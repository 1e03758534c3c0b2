#!/bin/sh
# fetch_sources.sh: fetches the pinned emoji icon sets the corpus is drawn from (Iconify JSON packages) with
# `npm pack NAME@VERSION`, verifies each tarball against the sha512 recorded below, and extracts icons.json,
# info.json (licence, author), chars.json (codepoints) and metadata.json (categories) into
# data/sources/<set>/. Idempotent: a set whose files are present and whose tarball verifies is left alone.
# The tarballs and their contents are never committed (data/ is ignored). Needs npm, tar, sha512sum, base64.
#
# Usage: scripts/fetch_sources.sh [DEST]   (DEST defaults to data/sources)
set -eu
cd "$(dirname "$0")/.."
DEST=${1:-data/sources}
mkdir -p "$DEST"

# set name | package@version | sha512 integrity (as npm pack reports it)
SETS='twemoji @iconify-json/twemoji@1.2.5 sha512-uKpuIEV0v6K5BW3Mjdyl+XKFVAbbcPxAgifKvEMtZoUZB5+YiY5zaMm2uNNCxyXzAWU9yNLlj41WU6/mvgALsw==
noto @iconify-json/noto@1.2.9 sha512-DQiuXENbun41ch+XPSV55H9FaWKpHTyz46YIKtSaKYD4fIDDzL1tR6H4np/T38jfrTAeI3rcKF0mqHYeZVAuaw==
openmoji @iconify-json/openmoji@1.2.29 sha512-vXdhkqcXVSO6suy+m9LbcUM3OdVyuNOtpV8/als/WqfkQIRxevL5Geb/g+6GH/Qwnq1OqksEmaDGTCmZ5nFKJQ==
fluent-emoji-flat @iconify-json/fluent-emoji-flat@1.2.6 sha512-RY47RgPb47fYUiyrA64sIOL0+UU02s29sXpNBbIQRBUlPlfNFTKUmZDERGuxDs/7yNGWqQYvuaSYM1M4fRXlUw=='

# integrity_of FILE: the "sha512-<base64>" integrity string of FILE.
integrity_of() { printf 'sha512-%s' "$(sha512sum "$1" | cut -d' ' -f1 | xxd -r -p | base64 -w0)"; }

echo "$SETS" | while read -r name spec want; do
    dir="$DEST/$name"
    mkdir -p "$dir"
    tgz=$(ls "$dir"/*.tgz 2>/dev/null | head -1 || true)
    if [ -z "$tgz" ] || [ "$(integrity_of "$tgz")" != "$want" ]; then
        rm -f "$dir"/*.tgz
        echo "fetch_sources: $spec"
        (cd "$dir" && npm pack "$spec" --silent >/dev/null)
        tgz=$(ls "$dir"/*.tgz | head -1)
    fi
    got=$(integrity_of "$tgz")
    if [ "$got" != "$want" ]; then
        echo "fetch_sources: $spec: checksum mismatch (got $got)" >&2
        rm -f "$tgz"
        exit 1
    fi
    tar xzf "$tgz" -C "$dir" --strip-components=1 package/icons.json package/info.json package/chars.json \
        package/metadata.json
    echo "fetch_sources: $name ok ($(basename "$tgz"))"
done
