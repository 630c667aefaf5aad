#!/usr/bin/env bash
# Builds the web console (console/) into internal/console/dist/site, which `go build` then embeds:
# npm ci (when node_modules is missing or older than the lock file), the typed API client generated
# from api/openapi.yaml, type check, vite build. Installs Debian's nodejs and npm where node is
# missing. FUPIN_CONSOLE=0 skips it all (the binary then serves a placeholder at /console/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

if [[ ${FUPIN_CONSOLE:-1} == 0 ]]; then
	info "FUPIN_CONSOLE=0: console not built"
	exit 0
fi
ensure_node
dir="$FUPIN_ROOT/console"
if [[ ! -f $dir/node_modules/.package-lock.json || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
	info "installing the console's packages (npm ci in console/)"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2 || die "npm ci in console/ failed"
fi
info "building the console (API client from api/openapi.yaml, type check, vite build)"
(
	cd "$dir" || exit 1
	./node_modules/.bin/openapi-typescript ../api/openapi.yaml -o src/api/schema.d.ts --silent
	./node_modules/.bin/vue-tsc --noEmit
	./node_modules/.bin/vite build --logLevel warn
) >&2 || die "the console does not build (above)"
