#!/usr/bin/env bash
# Lighthouse (issue 13's bar, mobile profile) on the console's login and catalogue pages:
# performance >= 90, accessibility >= 95, the login page's first load <= 250 KB of compressed JS and
# CSS. Needs the console built (scripts/console.sh). Serves a fresh database console_lighthouse_<pid>
# holding the demo (dropped afterwards), with a Redis prefix of its own; prints the scores, writes the reports to
# artifacts/console/lighthouse-*.html and exits 1 under the bar. Lighthouse is pinned by
# scripts/lighthouse/package-lock.json (12.2.3: 13 needs Node 22).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
console_lighthouse
