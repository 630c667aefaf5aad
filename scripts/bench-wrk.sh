#!/usr/bin/env bash
# Scan throughput measured from outside the process: wrk (its own process, -t2) against
# `fupin serve` (a demo database of its own, the rate limit off) and against a bare gin handler
# doing one Redis GET of the same cached view (internal/bench/bareredis), alternately, several
# rounds, so that the shared machine's load falls on both alike. A national campaign is millions
# of labels each scanned by a few phones, so each request scans a different code: BENCH_SCAN_CODES
# (4,000) sold codes added beside the demo's (internal/bench/soldcodes), in a shuffled order, both
# sides asked for the same codes in the same order (a wrk Lua script walking a list of paths), all
# their views cached in Redis before timing. The one-hot-code figures (scan_wrk_json_one_code,
# scan_wrk_html_one_code: the demo's code from every connection) are measured beside them unless
# BENCH_WRK_ONE_CODE=0. Prints BENCH lines as
# scripts/bench.sh does (ratio = the product's figure / the bare handler's, same run):
#   BENCH scan_wrk_json 5123.4 req/s ratio=0.712 baseline=bare_gin_redis_get
#   BENCH scan_wrk_json_p99 21.3 ms ratio=1.180 baseline=bare_gin_redis_get_p99
# Requests/s are the sums over the rounds; p99s the medians of the rounds'; CPU per request (_cpu:
# the server's, /proc; _redis_cpu: Redis's, INFO cpu, shared with whatever else uses it) the
# totals over the rounds, steadier than rates on a loaded machine. Per-round lines go to
# stderr. Run it alone (`scripts/bench.sh wrk` runs it too) on an otherwise quiet machine.
# Environment: BENCH_CONNS (64 connections), BENCH_WRK_THREADS (2), BENCH_WRK_SECONDS (5 per
# round and target), BENCH_WRK_ROUNDS (5), BENCH_SCAN_CODES (4000), BENCH_WRK_ONE_CODE (1);
# TEST_DATABASE_URL / TEST_REDIS_URL as for the tests.
# The Redis client settings of `fupin serve` (REDIS_TIMEOUT, REDIS_POOL_SIZE, REDIS_POOL_TIMEOUT)
# apply to both servers alike: on a machine too loaded for 50 ms socket reads the bare handler
# answers 500 and the run stops; REDIS_TIMEOUT=200ms then measures both with a wider budget.
# BENCH_FUPIN_BIN=/path/to/fupin measures that binary instead of building ./cmd/fupin (a paired
# run against main's: build it in a worktree of main's commit, `go build -o /tmp/fupin-old
# ./cmd/fupin`, and alternate runs with and without the variable; docs/performance.md).
# Leaves nothing behind: its database and its Redis keys (prefix benchwrk-PID:) are removed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

conns="${BENCH_CONNS:-64}"
threads="${BENCH_WRK_THREADS:-2}"
secs="${BENCH_WRK_SECONDS:-5}"
rounds="${BENCH_WRK_ROUNDS:-5}"
ncodes="${BENCH_SCAN_CODES:-4000}"
one_code="${BENCH_WRK_ONE_CODE:-1}"

ensure_go
ensure_services --test
have wrk || apt_install wrk || die "wrk not found (Debian: apt-get install wrk)"
have redis-cli || apt_install redis-tools || die "redis-cli not found (Debian: apt-get install redis-tools)"

work="$(mktemp -d "${TMPDIR:-/tmp}/fupin-wrk.XXXXXX")"
base_url="${TEST_DATABASE_URL:-${DATABASE_URL:-$FUPIN_LOCAL_PG_URL}}"
db="bench_wrk_$$"
export DATABASE_URL
DATABASE_URL="$(url_with_db "$base_url" "$db")"
export REDIS_URL="${TEST_REDIS_URL:-${REDIS_URL:-$FUPIN_LOCAL_REDIS_URL}}"
export REDIS_PREFIX="benchwrk-$$:"
app_pid="" bare_pid=""

cleanup() {
	set +e # a killed server's exit status must not end the cleanup (errexit) before the rest
	local pid
	for pid in "$bare_pid" "$app_pid"; do
		if [[ -n $pid ]]; then
			kill "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null |
		xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1 || true
	psql "$(url_with_db "$base_url" postgres)" -XAtq -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 ||
		warn "could not drop database $db"
	rm -rf "$work"
}
trap cleanup EXIT

if [[ -n ${BENCH_FUPIN_BIN:-} ]]; then
	[[ -x $BENCH_FUPIN_BIN ]] || die "BENCH_FUPIN_BIN=$BENCH_FUPIN_BIN is not an executable"
	info "using $BENCH_FUPIN_BIN; building the bare handler"
	cp "$BENCH_FUPIN_BIN" "$work/fupin"
else
	info "building fupin and the bare handler"
	go build -o "$work/fupin" ./cmd/fupin
fi
go build -o "$work/bareredis" ./internal/bench/bareredis
go build -o "$work/soldcodes" ./internal/bench/soldcodes
ensure_database "$db" "$(url_with_db "$base_url" postgres)"
"$work/fupin" migrate up >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; die "fupin migrate up failed"; }
"$work/fupin" demo >"$work/demo.txt" 2>"$work/demo.log" || { cat "$work/demo.log" >&2; die "fupin demo failed"; }
code="$(sed -n 's|.*/t/\([0-9A-Z]*\)$|\1|p' "$work/demo.txt" | head -n 1)"
[[ -n $code ]] || die "no scan code in the demo's summary ($work/demo.txt)"
"$work/soldcodes" -like "$code" -n "$ncodes" >"$work/codes" || die "soldcodes failed"
sed 's|^|/x/|' "$work/codes" >"$work/paths.bare"
sed 's|^|/api/v1/trace/|' "$work/codes" >"$work/paths.json"
sed 's|^|/t/|' "$work/codes" >"$work/paths.html"
printf '/api/v1/trace/%s\n' "$code" >"$work/paths.json_one_code"
printf '/t/%s\n' "$code" >"$work/paths.html_one_code"

# listening FILE: waits for "listening on URL" in FILE and prints the URL.
listening() {
	local i url
	for ((i = 0; i < 120; i++)); do
		url="$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$1")"
		[[ -n $url ]] && { printf '%s\n' "$url"; return 0; }
		sleep 0.5
	done
	cat "$1" >&2
	return 1
}

# The rate limit is off: all load comes from one address (docs/traceability.md, "Rate limit").
ADDR=127.0.0.1:0 SCAN_RATE_PER_SECOND=0 LOG_LEVEL=warn "$work/fupin" serve >"$work/app.out" 2>"$work/app.err" &
app_pid=$!
app="$(listening "$work/app.out")" || die "fupin serve did not start ($work/app.err)"
# Every code's view cached (and its counters started) before the bare handler looks for the keys.
sed "s|^|$app|" "$work/paths.json" "$work/paths.json_one_code" | xargs -P 8 -n 100 curl -fsS >/dev/null ||
	die "warming the scans failed"
"$work/bareredis" -match "${REDIS_PREFIX}trace:*:view:*" >"$work/bare.out" 2>&1 &
bare_pid=$!
bare="$(listening "$work/bare.out")" || die "bareredis did not start"

# paths.lua FILE: each request the next path of FILE (one a line), each thread from its own
# offset; done reports as one line.
cat >"$work/paths.lua" <<'EOF'
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local paths, i = {}, 0
function init(args)
  for l in io.lines(args[1]) do paths[#paths + 1] = l end
  i = (id or 0) * math.floor(#paths / tonumber(args[2]))
end
function request()
  i = i % #paths + 1
  return wrk.format(nil, paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(99), e.status + e.connect + e.read + e.write + e.timeout))
end
EOF

# cpu PID: the CPU time the process has used, in clock ticks (user + system, /proc/PID/stat).
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# redis_cpu: the CPU time Redis has used, in µs (INFO cpu; the server may be shared).
redis_cpu() {
	redis-cli -u "$REDIS_URL" INFO cpu | tr -d '\r' |
		awk -F: '$1 == "used_cpu_user" || $1 == "used_cpu_sys" { s += $2 } END { printf "%.0f\n", s * 1e6 }'
}

# run NAME URL PID: one wrk run over the paths of NAME against the server PID; appends "NAME
# requests duration_us p99_us server_cpu_us redis_cpu_us" to results.
run() {
	local out line c0 r0 c1 r1
	c0="$(cpu "$3")" r0="$(redis_cpu)"
	out="$(wrk -t"$threads" -c"$conns" -d"${secs}s" -s "$work/paths.lua" "$2" -- "$work/paths.$1" "$threads")"
	c1="$(cpu "$3")" r1="$(redis_cpu)"
	line="$(grep '^WRK ' <<<"$out")" || die "wrk printed no result for $1"
	read -r _ req dur p99 errors <<<"$line"
	((errors == 0)) || die "$1: $errors failed requests (non-2xx, socket errors or timeouts)"
	local scpu=$(((c1 - c0) * 1000000 / $(getconf CLK_TCK))) rcpu=$((r1 - r0))
	printf '%s %s %s %s %s %s\n' "$1" "$req" "$dur" "$p99" "$scpu" "$rcpu" >>"$work/results"
	awk -v n="$1" -v r="$req" -v d="$dur" -v p="$p99" -v s="$scpu" -v rc="$rcpu" 'BEGIN {
		printf "  %s: %.0f req/s, p99 %.1f ms, CPU per request: server %.1f µs, Redis %.1f µs\n", n, r * 1e6 / d, p / 1000, s / r, rc / r }' >&2
}

info "wrk -t$threads -c$conns, $rounds rounds of ${secs}s per target; uptime: $(uptime)"
names="json html"
((one_code)) && names+=" json_one_code html_one_code"
for n in bare $names; do # warm-up: the pages too
	wrk -t"$threads" -c"$conns" -d2s -s "$work/paths.lua" "$([[ $n == bare ]] && echo "$bare" || echo "$app")" \
		-- "$work/paths.$n" "$threads" >/dev/null
done
: >"$work/results"
for ((r = 1; r <= rounds; r++)); do
	info "round $r"
	run bare "$bare" "$bare_pid"
	for n in $names; do
		run "$n" "$app" "$app_pid"
	done
done
info "uptime after: $(uptime)"
if grep -q 'redis call failed' "$work/app.err"; then
	warn "the product fell back to PostgreSQL during the run (Redis calls over REDIS_TIMEOUT):"
	grep -c 'redis call failed' "$work/app.err" >&2
fi

awk '
{ req[$1] += $2; dur[$1] += $3; n[$1]++; p99[$1, n[$1]] = $4; scpu[$1] += $5; rcpu[$1] += $6 }
function median(name,   i, j, t, a, k) {
	k = n[name]
	for (i = 1; i <= k; i++) a[i] = p99[name, i]
	for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
END {
	base = req["bare"] * 1e6 / dur["bare"]; bp = median("bare") / 1000
	printf "BENCH scan_wrk_bare_gin_redis_get %.1f req/s ratio=1.000 baseline=bare_gin_redis_get\n", base
	printf "BENCH scan_wrk_bare_gin_redis_get_p99 %.1f ms ratio=1.000 baseline=bare_gin_redis_get_p99\n", bp
	bs = scpu["bare"] / req["bare"]; br = rcpu["bare"] / req["bare"]
	printf "BENCH scan_wrk_bare_gin_redis_get_cpu %.1f µs/req ratio=1.000 baseline=bare_gin_redis_get_cpu\n", bs
	printf "BENCH scan_wrk_bare_gin_redis_get_redis_cpu %.1f µs/req ratio=1.000 baseline=bare_gin_redis_get_redis_cpu\n", br
	k = split(names, tg, " ")
	for (i = 1; i <= k; i++) {
		m = tg[i]; rps = req[m] * 1e6 / dur[m]; p = median(m) / 1000
		printf "BENCH scan_wrk_%s %.1f req/s ratio=%.3f baseline=bare_gin_redis_get\n", m, rps, rps / base
		printf "BENCH scan_wrk_%s_p99 %.1f ms ratio=%.3f baseline=bare_gin_redis_get_p99\n", m, p, p / bp
		s = scpu[m] / req[m]; r = rcpu[m] / req[m]
		printf "BENCH scan_wrk_%s_cpu %.1f µs/req ratio=%.3f baseline=bare_gin_redis_get_cpu\n", m, s, s / bs
		printf "BENCH scan_wrk_%s_redis_cpu %.1f µs/req ratio=%.3f baseline=bare_gin_redis_get_redis_cpu\n", m, r, r / br
	}
}' names="$names" "$work/results"
