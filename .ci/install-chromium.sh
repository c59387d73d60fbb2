#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser tests (test/cli/dashboard-browser.test.ts)
# when /usr/bin/chromium is missing; Playwright's own browser download is not used.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "ci: no /usr/bin/chromium, installing Debian's chromium"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
