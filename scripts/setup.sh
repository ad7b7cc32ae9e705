#!/usr/bin/env bash
# Installs the Debian packages optlab builds against, only if something is missing;
# `setup.sh browser` also those the browser test needs (scripts/browser-test.sh).
set -euo pipefail
packages=(libcairo2-dev libdnnl-dev zlib1g-dev libgif-dev libavcodec-dev libavformat-dev libswscale-dev fonts-dejavu-core pkg-config)
[ "${1:-}" = browser ] && packages+=(chromium chromium-driver python3-venv)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
