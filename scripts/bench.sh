#!/usr/bin/env bash
# Runs the Go benchmarks and prints their BENCH lines. Arguments name benchmarks (regular
# expressions, joined with |); none runs them all. Full output: artifacts/bench.log.
#   scripts/bench.sh                 all benchmarks
#   scripts/bench.sh Scan Order      benchmarks matching Scan or Order
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_go
ensure_services --test
ensure_test_database

pattern=""
if (($#)); then
	pattern="$(IFS='|'; printf '%s' "$*")"
fi

mkdir -p artifacts
log=artifacts/bench.log
status=0
go test -run '^$' -bench "${pattern:-.}" -benchmem -timeout 60m ./... >"$log" 2>&1 || status=$?
grep '^BENCH' "$log" || true
if ((status != 0)); then
	tail -n 40 "$log" >&2
	die "benchmarks failed (exit $status); full output in $log"
fi
