#!/usr/bin/env bash
# Drives `optlab serve` in headless Chromium (Tests/Browser/browser_test.py) and prints its own
# pass/fail count. Installs what it needs: Debian's chromium and chromium-driver (setup.sh browser)
# and selenium and Pillow (which decodes the GIF the page offers) from PyPI in a venv under
# .build/. Extra arguments go to the script (--screenshots plots, --optlab PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh browser
venv=.build/browser-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import selenium, PIL" 2>/dev/null || "$venv/bin/pip" install -q "selenium>=4.11,<5" "pillow>=10,<13"
SWIFT=${SWIFT:-swift}
$SWIFT build --product optlab
# The driver and browser are Debian's; selenium must not look for its own.
export SE_OFFLINE=true
"$venv/bin/python" Tests/Browser/browser_test.py --optlab "$($SWIFT build --show-bin-path)/optlab" "$@"
