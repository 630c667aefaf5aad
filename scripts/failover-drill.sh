#!/usr/bin/env bash
# Failover drill (issue 15): a PostgreSQL primary and a synchronous streaming standby on loopback
# (scripts/replica.sh), `fupin serve` in front of them, buyers placing orders with
# Idempotency-Keys; mid-load the primary is killed (pg_ctl stop -m immediate: a crash, not a
# clean shutdown) and the standby promoted (pg_ctl promote). Passes when
#   - the same `fupin serve` process (no restart) places orders again within 10 s of the promotion,
#   - every key ends with exactly one order (clients retry a failed request with the same key until
#     it succeeds; the key's record names one order, every order placed has one key, and every
#     answer for a key named that order),
#   - `fupin verify` on the new primary reports 0 mismatches.
#
# How the app finds the new primary: DATABASE_URL lists both hosts with
# target_session_attrs=read-write (libpq's multi-host syntax, which pgx implements): a new
# connection tries each host in turn and keeps the first that accepts writes. Before the promotion
# the old primary refuses connections and the standby is read-only, so requests fail fast (503,
# the client retries); after it the standby is taken. The pool drops connections the server ended
# (internal/platform/database pings after a lost connection), so no restart is needed. In
# production the same holds with Patroni (or pg_auto_failover) naming the hosts, or with PgBouncer
# re-pointed by Patroni's callback; docs/scaling.md says why we chose the multi-host URL here.
#
# Synchronous replication (synchronous_standby_names) is what makes "exactly one order" hold through
# a crash: an order the old primary acknowledged is on the standby. With asynchronous replication
# an acknowledged order can be lost, and its key would then place a second order on retry.
#
# Usage: scripts/failover-drill.sh   (ORDERS=120 WORKERS=3 by default; needs Redis, as run.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/replica.sh
source scripts/replica.sh

ORDERS="${ORDERS:-120}"
WORKERS="${WORKERS:-3}"
ensure_go
have curl || apt_install curl || die "the drill needs curl"
have jq || apt_install jq || die "the drill needs jq"
unset DATABASE_URL TEST_DATABASE_URL
ensure_services # Redis (and the default PostgreSQL, unused here)

start_replica_pair --sync
P1="$REPLICA_PRIMARY_PORT" P2="$REPLICA_STANDBY_PORT"
DRILL_DIR="$REPLICA_DIR/drill"
mkdir -p "$DRILL_DIR"
psql "$TEST_REPLICA_PRIMARY_URL" -XAtqc 'CREATE DATABASE fupin_drill' >/dev/null
export DATABASE_URL="postgres://postgres@127.0.0.1:${P1},127.0.0.1:${P2}/fupin_drill?sslmode=disable&target_session_attrs=read-write&connect_timeout=2"
NEW_PRIMARY_URL="postgres://postgres@127.0.0.1:${P2}/fupin_drill?sslmode=disable"
PORT="$(free_loopback_port)"
export ADDR="127.0.0.1:$PORT" PUBLIC_BASE_URL="http://127.0.0.1:$PORT" REDIS_PREFIX="fupin-drill-$$:" LOG_FORMAT=text LOG_LEVEL=warn
API="http://127.0.0.1:$PORT/api/v1"
BIN="$FUPIN_ROOT/bin/fupin-drill"

info "building $BIN"
go build -o "$BIN" ./cmd/fupin
"$BIN" migrate up >/dev/null 2>&1 || die "fupin migrate up failed"
"$BIN" demo >/dev/null || die "fupin demo failed"
"$BIN" serve >"$DRILL_DIR/serve.log" 2>&1 &
SERVE_PID=$!
add_exit_trap "kill $SERVE_PID 2>/dev/null || true"
wait_until 30 "fupin serve on :$PORT" curl -sf "http://127.0.0.1:$PORT/healthz" || die "fupin serve did not start: $(tail -n 5 "$DRILL_DIR/serve.log")"

TOKEN="$(curl -sf -H 'Content-Type: application/json' -d '{"username":"buyer-agency","password":"fupin-demo-2026"}' "$API/auth/login" | jq -r .token)"
PRODUCT="$(curl -sf -H "Authorization: Bearer $TOKEN" "$API/products" | jq -r '.products | max_by(.stock) | .id')"
[[ -n $TOKEN && -n $PRODUCT && $PRODUCT != null ]] || die "could not log in or find a product"
RUN="drill-$(date +%s)"

# worker W: places orders W, W+WORKERS, ... each under its own key, retrying the same key until the
# server answers 200 or 201. Logs "key epoch_ms status order_id" per attempt.
worker() {
	local w="$1" i key code body ms
	for ((i = w; i <= ORDERS; i += WORKERS)); do
		key="$RUN-$i"
		while :; do
			body="$(curl -s -m 15 -o - -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
				-H "Idempotency-Key: $key" -d "{\"items\":[{\"product_id\":\"$PRODUCT\",\"quantity\":1}]}" "$API/orders" || true)"
			code="${body##*$'\n'}"
			ms="$(date +%s%3N)"
			if [[ $code == 200 || $code == 201 ]]; then
				printf '%s %s %s %s\n' "$key" "$ms" "$code" "$(jq -r .id <<<"${body%$'\n'*}")"
				break
			fi
			printf '%s %s %s -\n' "$key" "$ms" "${code:-000}"
			sleep 0.2
		done
		sleep 0.05
	done
}

info "placing $ORDERS orders with $WORKERS buyers' workers; the primary is killed mid-load"
WORKER_PIDS=()
for ((w = 1; w <= WORKERS; w++)); do
	worker "$w" >"$DRILL_DIR/worker-$w.log" &
	WORKER_PIDS+=($!)
done
# Wait for about a third of the orders, then crash the primary and promote the standby.
while (($(cat "$DRILL_DIR"/worker-*.log 2>/dev/null | awk '$3 == 200 || $3 == 201' | wc -l) < ORDERS / 3)); do sleep 0.2; done
KILLED_MS="$(date +%s%3N)"
as_pg "$REPLICA_PG_BIN/pg_ctl" -D "$REPLICA_DIR/primary" -m immediate -w stop >/dev/null
info "primary on :$P1 killed; promoting the standby on :$P2"
sleep 1 # as a failover manager does: wait a moment before declaring the primary lost
as_pg "$REPLICA_PG_BIN/pg_ctl" -D "$REPLICA_DIR/standby" -w promote >/dev/null
PROMOTED_MS="$(date +%s%3N)"
wait "${WORKER_PIDS[@]}"
kill -0 "$SERVE_PID" 2>/dev/null || die "fupin serve died during the drill: $(tail -n 20 "$DRILL_DIR/serve.log")"

cat "$DRILL_DIR"/worker-*.log >"$DRILL_DIR/attempts.log"
FIRST_OK_MS="$(awk -v t="$PROMOTED_MS" '($3 == 200 || $3 == 201) && $2 >= t {print $2}' "$DRILL_DIR/attempts.log" | sort -n | head -n 1)"
FAILED="$(awk '$3 != 200 && $3 != 201' "$DRILL_DIR/attempts.log" | wc -l)"
[[ -n $FIRST_OK_MS ]] || die "no order placed after the promotion"
RECONNECT_MS=$((FIRST_OK_MS - PROMOTED_MS))
OUTAGE_MS=$((FIRST_OK_MS - KILLED_MS))
info "orders placed again $((RECONNECT_MS))ms after the promotion ($((OUTAGE_MS))ms after the crash); $FAILED failed attempts retried"

fail=0
((RECONNECT_MS <= 10000)) || {
	warn "reconnecting took ${RECONNECT_MS}ms (more than 10 s)"
	fail=1
}
# Every key answered with one order id, whatever the number of attempts.
awk '$3 == 200 || $3 == 201 {print $1, $4}' "$DRILL_DIR/attempts.log" | sort -u >"$DRILL_DIR/answers"
answered_keys="$(cut -d' ' -f1 "$DRILL_DIR/answers" | sort -u | wc -l)"
answers="$(wc -l <"$DRILL_DIR/answers")"
if ((answered_keys != ORDERS || answers != ORDERS)); then
	warn "$answered_keys keys answered with $answers distinct order ids; want $ORDERS and $ORDERS"
	fail=1
fi
# The database: one key record per key, naming an order; one order per key, no order without one.
read -r keys orders unmatched < <(psql "$NEW_PRIMARY_URL" -XAtq -F ' ' -v run="$RUN" <<'SQL'
SELECT (SELECT count(*) FROM idempotency_keys WHERE scope LIKE 'order:%' AND key LIKE :'run' || '-%'),
       (SELECT count(*) FROM orders o WHERE o.id IN
            (SELECT result_ref::uuid FROM idempotency_keys WHERE scope LIKE 'order:%' AND key LIKE :'run' || '-%')),
       (SELECT count(*) FROM orders o WHERE o.placed_at >= (SELECT min(created_at) FROM idempotency_keys WHERE key LIKE :'run' || '-%')
            AND NOT EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.result_ref = o.id::text))
SQL
)
if ((keys != ORDERS || orders != ORDERS || unmatched != 0)); then
	warn "in the database: $keys keys, $orders of their orders exist, $unmatched orders without a key; want $ORDERS, $ORDERS, 0"
	fail=1
fi
# What the clients were told is what the database holds.
psql "$NEW_PRIMARY_URL" -XAtq -F ' ' -v run="$RUN" <<<"SELECT key, result_ref FROM idempotency_keys
	WHERE scope LIKE 'order:%' AND key LIKE :'run' || '-%'" | sort -u >"$DRILL_DIR/recorded"
if ! diff -q "$DRILL_DIR/answers" "$DRILL_DIR/recorded" >/dev/null; then
	warn "answers and records differ: $(diff "$DRILL_DIR/answers" "$DRILL_DIR/recorded" | head -n 5)"
	fail=1
fi
if ! DATABASE_URL="$NEW_PRIMARY_URL" "$BIN" verify >"$DRILL_DIR/verify.log" 2>&1; then
	warn "fupin verify: $(tail -n 5 "$DRILL_DIR/verify.log")"
	fail=1
fi
kill -0 "$SERVE_PID" 2>/dev/null || {
	warn "fupin serve is gone"
	fail=1
}
if ((fail)); then
	cp -r "$DRILL_DIR" "${TMPDIR:-/tmp}/fupin-drill-failed-$$" 2>/dev/null || true
	die "failover drill failed (logs kept in ${TMPDIR:-/tmp}/fupin-drill-failed-$$)"
fi
printf 'FAILOVER orders=%d keys_one_order=%d failed_attempts=%d reconnect_after_promote_ms=%d outage_ms=%d verify=ok serve_pid=%d (not restarted)\n' \
	"$ORDERS" "$keys" "$FAILED" "$RECONNECT_MS" "$OUTAGE_MS" "$SERVE_PID"
