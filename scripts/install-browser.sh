#!/usr/bin/env bash
# Installs Debian's Chromium for the web app's browser tests (tests/serving/test_web_app.py).
# Does nothing when chromium is already there. Without root it only prints a note and the browser
# tests skip. Never downloads a browser build of its own (no `playwright install`).
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "note: chromium is not installed and this is not root; the browser tests will skip" \
       "(install the Debian package 'chromium' to run them)." >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: no apt-get here; install chromium by hand to run the browser tests." >&2
  exit 0
fi
apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
  || echo "note: installing chromium failed; the browser tests will skip." >&2
exit 0
