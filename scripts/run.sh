#!/usr/bin/env bash
# Builds fupin, starts what it needs (PostgreSQL, Redis), migrates, loads the demo data and serves
# the API on $ADDR (default :8080). Idempotent: run it again at any time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_go
# shellcheck disable=SC2119 # no --test: the application's own URLs
ensure_services
if [[ -z ${DATABASE_URL:-} ]]; then
	ensure_database fupin
fi

export LOG_FORMAT="${LOG_FORMAT:-text}"

# The web console, embedded by go build (FUPIN_CONSOLE=0 skips it: a placeholder page is served).
scripts/console.sh
info "building bin/fupin"
go build -o bin/fupin ./cmd/fupin
bin/fupin migrate up
bin/fupin demo
exec bin/fupin serve
