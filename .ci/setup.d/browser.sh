# Debian's chromium for the wall display's browser test (sourced by .ci/run, as root,
# under set -euo pipefail).
#
# The test drives /usr/bin/chromium through Playwright's Python package; nothing is
# downloaded at test time (no 'playwright install'). Installed here only when absent.

if [ -x /usr/bin/chromium ]; then
  echo "== browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) already installed"
else
  echo "== browser: installing Debian's chromium"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
  if [ ! -x /usr/bin/chromium ]; then
    echo "browser setup: /usr/bin/chromium missing after installing chromium" >&2
    return 1
  fi
  echo "== browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) installed"
fi
