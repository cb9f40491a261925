#!/usr/bin/env bash
# Set up qrbench on Debian: Chromium and Redis from apt, qrbench and its test tools in .venv.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Node runs the real whatsapp-web.js (--engine whatsapp-web.js); the model engine needs none.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "qrbench needs Debian packages: ${missing[*]}. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    echo "then run ./setup.sh again." >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]} with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv" >&2
  python3 -m venv "$venv" || {
    echo "python3 -m venv failed: install it with 'apt-get install -y python3-venv'" >&2
    exit 1
  }
fi
echo "setup: installing qrbench with its test and dev extras into $venv" >&2
# constraints.txt pins every library to the version qrbench was measured with.
"$venv/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[test,dev]"
# The real library at the version the lockfile pins; puppeteer must not download a
# browser (there is no network for it, and qrbench runs Debian's Chromium).
driver=qrbench/engines/wwebjs
if [ ! -f "$driver/node_modules/.package-lock.json" ] || [ "$driver/package-lock.json" -nt "$driver/node_modules/.package-lock.json" ]; then
  echo "setup: installing whatsapp-web.js for the real-library engine (npm ci)" >&2
  (cd "$driver" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "setup: done. Chromium: $(command -v chromium), Node: $(node --version), qrbench: $venv/bin/qrbench" >&2
