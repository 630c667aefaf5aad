#!/usr/bin/env bash
# Runs the Go benchmarks and prints their BENCH lines. Arguments name benchmarks (regular
# expressions, joined with |); none runs them all. Full output: artifacts/bench.log.
#   scripts/bench.sh                 all benchmarks
#   scripts/bench.sh Scan Order      benchmarks matching Scan or Order
#   scripts/bench.sh Scan wrk        BenchmarkScan, then the scans from outside the process with wrk
#                                    (scripts/bench-wrk.sh; "wrk" alone runs only that)
# Sizes (environment): BENCH_ATTRIBUTION_ENTRIES (sale entries posted by BenchmarkAttribution,
# default 20000; the issue's full run is 1000000), BENCH_ATTRIBUTION_WORKERS (4),
# BENCH_ATTRIBUTION_COMMISSION_BP (the station's commission, default 200; 0 for none),
# BENCH_IMPORT_ROWS (rows of the generated XLSX roster, default 100000); BENCH_TIMEOUT (60m).
# BENCH_ATTRIBUTION_REPORT_ONLY=1 skips the verify runs and the plain-insert baseline (the monthly
# report only); BENCH_ATTRIBUTION_EXPLAIN=1 prints the report's query plans (EXPLAIN ANALYZE).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_go
ensure_services --test
ensure_test_database

pattern="" wrk=0
names=()
for a in "$@"; do
	if [[ $a == wrk ]]; then wrk=1; else names+=("$a"); fi
done
if ((${#names[@]})); then
	pattern="$(IFS='|'; printf '%s' "${names[*]}")"
fi

if ((${#names[@]} || !wrk)); then
	mkdir -p artifacts
	log=artifacts/bench.log
	status=0
	go test -run '^$' -bench "${pattern:-.}" -benchmem -timeout "${BENCH_TIMEOUT:-60m}" ./... >"$log" 2>&1 || status=$?
	grep '^BENCH' "$log" || true
	if ((status != 0)); then
		tail -n 40 "$log" >&2
		die "benchmarks failed (exit $status); full output in $log"
	fi
fi
if ((wrk)); then
	scripts/bench-wrk.sh
fi
