#!/usr/bin/env bash
# Debian packages Vigil uses when present: ffmpeg (newer than the npm-shipped fallback), and for
# the test suite (--test) Chromium for the end-to-end UI tests and the RTSP camera emulator's
# GStreamer packages. Run as root: sudo scripts/install-deps.sh [--test]
set -euo pipefail
packages=(ffmpeg)
if [ "${1:-}" = "--test" ]; then
  packages+=(chromium python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all present (${packages[*]})"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
