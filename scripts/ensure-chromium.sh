#!/usr/bin/env bash
# The browser test drives Debian's Chromium through Playwright (no browser download).
set -euo pipefail
browser="${BOTRT_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium for the browser test..." >&2
    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }
else
    echo "the browser test needs Chromium at $browser: run 'sudo apt-get install chromium' or set BOTRT_CHROMIUM" >&2
    exit 1
fi
