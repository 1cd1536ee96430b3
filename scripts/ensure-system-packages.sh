#!/usr/bin/env bash
# What the suite needs from the system besides Python: Debian's Chromium for the browser
# tests (tests/e2e; chromium-l10n gives it Italian date inputs) and Pango with a font for
# the PDF report (WeasyPrint). Installed when this user can (root with apt-get); otherwise
# the suite stops before it starts, with one line saying what to install.
# REGISTRY_E2E_CHROMIUM points at another Chromium binary.
set -euo pipefail
browser="${REGISTRY_E2E_CHROMIUM:-/usr/bin/chromium}"
packages=(chromium chromium-l10n libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation)

missing=()
for package in "${packages[@]}"; do
  if [ "$package" = chromium ] && [ -x "$browser" ]; then continue; fi
  if [ "$package" = chromium-l10n ] && [ -n "${REGISTRY_E2E_CHROMIUM:-}" ]; then continue; fi
  if command -v dpkg >/dev/null 2>&1 && dpkg -s "$package" >/dev/null 2>&1; then continue; fi
  if [ "$package" != chromium ] && ! command -v dpkg >/dev/null 2>&1; then continue; fi
  missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's ${missing[*]} for the test suite"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -x "$browser" ] && exit 0
fi
echo "The test suite needs: ${missing[*]} (Debian/Ubuntu: sudo apt-get install ${missing[*]}; or set REGISTRY_E2E_CHROMIUM=/path/to/chromium), then run make test again." >&2
exit 1
