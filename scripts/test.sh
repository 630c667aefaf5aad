#!/usr/bin/env bash
# Static checks and the whole test suite against real PostgreSQL and Redis (started if needed).
# Extra arguments go to `go test`, e.g. scripts/test.sh -run TestOrder -v
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_go
ensure_services --test
ensure_test_database
ensure_test_tools
# A PgBouncer in transaction mode for the pooler test (TEST_PGBOUNCER_URL); stopped on exit.
# shellcheck source=scripts/pgbouncer.sh
source scripts/pgbouncer.sh
start_pgbouncer
# A PostgreSQL primary with a streaming standby on loopback for the replica tests
# (TEST_REPLICA_PRIMARY_URL, TEST_REPLICA_URL); both stopped on exit.
# shellcheck source=scripts/replica.sh
source scripts/replica.sh
start_replica_pair
# Two Redis Clusters of three masters for the cluster tests (TEST_REDIS_CLUSTER_ADDRS, …); stopped on exit.
# shellcheck source=scripts/redis-cluster.sh
source scripts/redis-cluster.sh
start_redis_clusters

# gofmt: every Go file of the tree (tracked or new), except vendor/ and testdata/.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t gofiles < <(git ls-files --cached --others --exclude-standard -- '*.go' |
		grep -Ev '(^|/)(vendor|testdata)/' || true)
else
	mapfile -t gofiles < <(find . -name '*.go' -not -path '*/vendor/*' -not -path '*/testdata/*' \
		-not -path './.git/*')
fi
existing=()
for f in "${gofiles[@]}"; do
	[[ -f $f ]] && existing+=("$f")
done
if ((${#existing[@]})); then
	unformatted="$(gofmt -l "${existing[@]}")"
	if [[ -n $unformatted ]]; then
		printf 'error: these files are not gofmt-formatted (run gofmt -w on them):\n%s\n' "$unformatted" >&2
		exit 1
	fi
fi

# docker-compose.yml must stay valid even though no Docker engine runs here.
if have docker && docker compose version >/dev/null 2>&1; then
	docker compose config -q
elif have docker-compose; then
	docker-compose config -q
else
	warn "docker-compose not installed: docker-compose.yml not validated (Debian: apt-get install docker-compose)"
fi

# api/openapi.yaml must pass independent OpenAPI validators, not only this project's own tests.
openapi_check

# The web console: built (so that the binary under test embeds it), its unit tests, then its
# browser tests against the real server. FUPIN_CONSOLE=0 skips all three.
scripts/console.sh
console_tests

info "go vet, then go test -race on every package (compiling first takes a minute)"
go vet ./...
# -timeout: a package binary may need more than go test's default 10 minutes on a loaded 2-core machine (trace took 10 at load 30).
go test -race -count=1 -timeout 30m ./... "$@"

# The failover drill (issue 15): a primary crashed and its standby promoted under a load of
# idempotent orders; under a minute (36 s measured). FUPIN_FAILOVER_DRILL=0 skips it.
if [[ ${FUPIN_FAILOVER_DRILL:-1} != 0 ]]; then
	info "failover drill (scripts/failover-drill.sh)"
	scripts/failover-drill.sh
fi
