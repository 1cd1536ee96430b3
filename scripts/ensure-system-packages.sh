#!/usr/bin/env bash
# The browser tests (tests/e2e) drive the system's Chromium. Install Debian's package when
# this user can (root with apt-get); otherwise stop before the suite with one line saying
# what to install. REGISTRY_E2E_CHROMIUM points at another Chromium binary.
set -euo pipefail
browser="${REGISTRY_E2E_CHROMIUM:-/usr/bin/chromium}"
can_install() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; }
# chromium-l10n gives the browser its Italian date inputs, which the tests read.
if [ -x "$browser" ] && { ! can_install || dpkg -s chromium-l10n >/dev/null 2>&1 \
    || [ -n "${REGISTRY_E2E_CHROMIUM:-}" ]; }; then
  exit 0
fi
if can_install; then
  echo "Installing Debian's chromium and chromium-l10n for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-l10n >/dev/null
  [ -x "$browser" ] && exit 0
fi
echo "The browser tests need Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium chromium-l10n) or set REGISTRY_E2E_CHROMIUM=/path/to/chromium, then run make test again." >&2
exit 1
