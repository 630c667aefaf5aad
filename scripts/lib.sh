# shellcheck shell=bash
# Shared bootstrapping for scripts/run.sh, scripts/test.sh and scripts/bench.sh. Source it:
#
#	source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Every function is idempotent, prints nothing when all is already fine, and does no slow work
# (no apt, no docker) unless something is actually missing.
#
# Environment it reads:
#   DATABASE_URL, REDIS_URL             used as they are when set (only waited for)
#   TEST_DATABASE_URL, TEST_REDIS_URL   take precedence with `ensure_services --test`
#   FUPIN_WAIT_SECONDS                  bound of every wait (default 60)
#   FUPIN_PG_PORT, FUPIN_REDIS_PORT     host ports of the local defaults (default 5432, 6379)
#   FUPIN_PG_CLUSTER                    Debian cluster to start when PostgreSQL is local (main)

FUPIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUPIN_WAIT_SECONDS="${FUPIN_WAIT_SECONDS:-60}"
FUPIN_PG_PORT="${FUPIN_PG_PORT:-5432}"
FUPIN_REDIS_PORT="${FUPIN_REDIS_PORT:-6379}"
FUPIN_PG_CLUSTER="${FUPIN_PG_CLUSTER:-main}"
# The local defaults, identical to those in internal/platform/config and internal/platform/dbtest.
FUPIN_LOCAL_PG_URL="postgres://postgres@127.0.0.1:${FUPIN_PG_PORT}/postgres?sslmode=disable"
FUPIN_LOCAL_REDIS_URL="redis://127.0.0.1:${FUPIN_REDIS_PORT}/0"

info() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# as_root CMD...: runs CMD as root (directly, or through sudo when not root).
as_root() {
	if [[ ${EUID:-$(id -u)} -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		warn "not root and no sudo: cannot run: $*"
		return 1
	fi
}

have() { command -v "$1" >/dev/null 2>&1; }

# apt_install PKG...: installs Debian packages quietly. Refreshes the package lists only when they
# are missing or when a first attempt fails (stale lists). Returns non-zero on failure, with the
# tail of apt's output.
apt_install() {
	have apt-get || return 1
	local log
	log="$(mktemp "${TMPDIR:-/tmp}/fupin-apt.XXXXXX")"
	local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o=Dpkg::Use-Pty=0
		-o=DPkg::Lock::Timeout=300)
	info "installing Debian packages: $*"
	if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
		as_root "${apt[@]}" update >>"$log" 2>&1 || true
	fi
	if ! as_root "${apt[@]}" install "$@" >>"$log" 2>&1; then
		as_root "${apt[@]}" update >>"$log" 2>&1 || true
		if ! as_root "${apt[@]}" install "$@" >>"$log" 2>&1; then
			tail -n 15 "$log" >&2
			rm -f "$log"
			return 1
		fi
	fi
	rm -f "$log"
}

# wait_until SECONDS WHAT CMD...: retries CMD every half second until it succeeds or SECONDS pass.
wait_until() {
	local secs="$1" what="$2"
	shift 2
	"$@" >/dev/null 2>&1 && return 0
	info "waiting for $what (up to ${secs}s)"
	local deadline=$((SECONDS + secs))
	while ((SECONDS < deadline)); do
		sleep 0.5
		"$@" >/dev/null 2>&1 && return 0
	done
	return 1
}

# url_host_port URL: prints "host port" of a postgres:// or redis:// URL (defaults 5432 / 6379).
url_host_port() {
	local url="$1" rest hostport host port def=5432
	[[ $url == redis* ]] && def=6379
	rest="${url#*://}"
	rest="${rest%%/*}"
	rest="${rest%%\?*}"
	hostport="${rest##*@}"
	if [[ $hostport == \[* ]]; then # [ipv6]:port
		host="${hostport%%]*}"
		host="${host#[}"
		port="${hostport##*]}"
		port="${port#:}"
	else
		host="${hostport%%:*}"
		port="${hostport#"$host"}"
		port="${port#:}"
	fi
	printf '%s %s\n' "${host:-127.0.0.1}" "${port:-$def}"
}

# url_with_db URL NAME: the same PostgreSQL URL with its database replaced by NAME.
url_with_db() {
	local url="$1" name="$2" base query="" scheme rest
	base="${url%%\?*}"
	[[ $url == *\?* ]] && query="?${url#*\?}"
	scheme="${base%%://*}"
	rest="${base#*://}"
	printf '%s://%s/%s%s\n' "$scheme" "${rest%%/*}" "$name" "$query"
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# pg_ready URL: is a PostgreSQL server accepting connections there (authentication not checked)?
pg_ready() {
	if have pg_isready; then
		pg_isready -q -t 2 -d "$1"
	else
		local hp
		read -r -a hp <<<"$(url_host_port "$1")"
		tcp_open "${hp[0]}" "${hp[1]}"
	fi
}

# pg_login URL: can we log in and run a query? Prints psql's error on failure.
pg_login() {
	have psql || return 0 # nothing to check with; the application will say
	# shellcheck disable=SC2069 # on purpose: the error text to stdout (captured), the result away
	PGCONNECT_TIMEOUT=3 psql "$1" -XAtqc 'SELECT 1' 2>&1 >/dev/null
}

# redis_ready URL: does Redis answer PING with PONG?
redis_ready() {
	if have redis-cli; then
		[[ "$(timeout 3 redis-cli -u "$1" ping 2>/dev/null)" == PONG ]]
	else
		local hp
		read -r -a hp <<<"$(url_host_port "$1")"
		(
			exec 9<>"/dev/tcp/${hp[0]}/${hp[1]}" || exit 1
			printf 'PING\r\n' >&9
			read -r -t 2 line <&9 && [[ $line == +PONG* ]]
		) 2>/dev/null
	fi
}

# compose_cmd: sets the array COMPOSE to `docker compose` or `docker-compose`; fails when neither.
compose_cmd() {
	if have docker && docker compose version >/dev/null 2>&1; then
		COMPOSE=(docker compose -f "$FUPIN_ROOT/docker-compose.yml")
	elif have docker-compose; then
		COMPOSE=(docker-compose -f "$FUPIN_ROOT/docker-compose.yml")
	else
		return 1
	fi
}

# compose_healthy SERVICE: is the compose service's container running with a passing healthcheck?
compose_healthy() {
	local id
	id="$("${COMPOSE[@]}" ps -q "$1" 2>/dev/null)"
	[[ -n $id ]] && [[ "$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null)" == healthy ]]
}

docker_engine_up() { have docker && timeout 10 docker info >/dev/null 2>&1; }

systemd_running() { [[ -d /run/systemd/system ]] && have systemctl; }

# pg_version: the newest PostgreSQL major version with a Debian configuration (/etc/postgresql/V).
pg_version() {
	local d v=""
	for d in /etc/postgresql/*/; do
		[[ -d $d ]] || continue
		d="${d%/}"
		d="${d##*/}"
		[[ -z $v ]] || [[ "$(printf '%s\n%s\n' "$v" "$d" | sort -V | tail -n 1)" == "$d" ]] && v="$d"
	done
	[[ -n $v ]] || return 1
	printf '%s\n' "$v"
}

# start_local_postgres: installs (apt) and starts the Debian PostgreSQL cluster $FUPIN_PG_CLUSTER.
start_local_postgres() {
	if ! have pg_ctlcluster || ! pg_version >/dev/null; then
		apt_install postgresql || die "could not install PostgreSQL; install it, or set DATABASE_URL"
	fi
	local v c="$FUPIN_PG_CLUSTER"
	v="$(pg_version)" || die "no PostgreSQL cluster under /etc/postgresql"
	if [[ ! -d /etc/postgresql/$v/$c ]]; then
		info "creating PostgreSQL $v cluster $c"
		as_root pg_createcluster -p "$FUPIN_PG_PORT" "$v" "$c" >/dev/null || die "pg_createcluster $v $c failed"
	fi
	info "starting PostgreSQL $v/$c"
	if systemd_running; then
		as_root systemctl start "postgresql@$v-$c" || true
	else
		as_root pg_ctlcluster --skip-systemctl-redirect "$v" "$c" start || true
	fi
}

# start_local_redis: installs (apt) and starts a Redis on 127.0.0.1 that keeps nothing on disk.
start_local_redis() {
	if ! have redis-server; then
		apt_install redis-server || die "could not install Redis; install it, or set REDIS_URL"
	fi
	# The package may have started its own service during installation.
	redis_ready "$FUPIN_LOCAL_REDIS_URL" && return 0
	info "starting Redis"
	if systemd_running && [[ $FUPIN_REDIS_PORT == 6379 ]] && as_root systemctl start redis-server 2>/dev/null; then
		return 0
	fi
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$FUPIN_REDIS_PORT" --save "" \
		--appendonly no --dir "${TMPDIR:-/tmp}" --logfile "${TMPDIR:-/tmp}/fupin-redis.log" >/dev/null ||
		die "redis-server failed to start (see ${TMPDIR:-/tmp}/fupin-redis.log)"
}

# allow_local_postgres_login: makes `postgres://postgres@127.0.0.1` (no password) work on a local
# Debian cluster.
#
# Decision: on a fresh Debian install pg_hba.conf says `peer` for the local socket and
# `scram-sha-256` for 127.0.0.1/::1, and the postgres role has no password, so the project's
# default URL (postgres://postgres@127.0.0.1:5432/..., the same as this project's CI machines,
# which run with trust) cannot log in. We prepend `trust` lines for the role postgres on loopback
# only (127.0.0.1/32 and ::1/128), marked so that they are added once. This is a development-machine
# setting: nothing off the machine can use it, and it keeps every default (run.sh, `go test`,
# `fupin` commands typed by hand, the Go defaults) working without a secret to pass around. The
# alternative, a generated password exported as DATABASE_URL, would only work inside these scripts
# and would break `go test ./...` run directly. For anything shared, set DATABASE_URL with a
# password and this function is never called.
allow_local_postgres_login() {
	local v c="$FUPIN_PG_CLUSTER" hba marker='# fupin dev (scripts/lib.sh)'
	v="$(pg_version)" || return 1
	hba="/etc/postgresql/$v/$c/pg_hba.conf"
	as_root test -f "$hba" || return 1
	if ! as_root grep -qF "$marker" "$hba"; then
		info "allowing password-less login of role postgres from 127.0.0.1 and ::1 (trust, in $hba)"
		local tmp
		tmp="$(mktemp)"
		{
			printf '%s: password-less TCP login for role postgres from loopback only.\n' "$marker"
			printf 'host    all    postgres    127.0.0.1/32    trust\n'
			printf 'host    all    postgres    ::1/128         trust\n'
			as_root cat "$hba"
		} >"$tmp"
		as_root cp "$tmp" "$hba"
		rm -f "$tmp"
	fi
	if systemd_running; then
		as_root pg_ctlcluster "$v" "$c" reload >/dev/null 2>&1 || true
	else
		as_root pg_ctlcluster --skip-systemctl-redirect "$v" "$c" reload >/dev/null 2>&1 || true
	fi
}

# ensure_services [--test]: makes PostgreSQL and Redis reachable.
#   With DATABASE_URL / REDIS_URL set (or TEST_* with --test) they are only waited for.
#   Otherwise the local defaults (127.0.0.1:5432, 127.0.0.1:6379) are checked; whatever is missing
#   is started with `docker compose up -d` when a Docker engine answers, else installed (apt) and
#   started as local services.
ensure_services() {
	local test_mode=0 pg_url redis_url pg_local=0 redis_local=0
	[[ ${1:-} == --test ]] && test_mode=1
	if ((test_mode)); then
		pg_url="${TEST_DATABASE_URL:-${DATABASE_URL:-}}"
		redis_url="${TEST_REDIS_URL:-${REDIS_URL:-}}"
	else
		pg_url="${DATABASE_URL:-}"
		redis_url="${REDIS_URL:-}"
	fi
	[[ -n $pg_url ]] || { pg_url="$FUPIN_LOCAL_PG_URL" && pg_local=1; }
	[[ -n $redis_url ]] || { redis_url="$FUPIN_LOCAL_REDIS_URL" && redis_local=1; }

	local -a missing=()
	if ((pg_local)) && ! pg_ready "$pg_url"; then missing+=(postgres); fi
	if ((redis_local)) && ! redis_ready "$redis_url"; then missing+=(redis); fi

	if ((${#missing[@]})); then
		if docker_engine_up && compose_cmd; then
			info "starting ${missing[*]} with ${COMPOSE[*]:0:2}"
			"${COMPOSE[@]}" up -d "${missing[@]}" >&2 || die "${COMPOSE[*]} up -d ${missing[*]} failed"
			# A published port accepts TCP before the server inside does: wait for the healthchecks.
			local s
			for s in "${missing[@]}"; do
				wait_until "$FUPIN_WAIT_SECONDS" "container $s to be healthy" compose_healthy "$s" ||
					die "container $s is not healthy after ${FUPIN_WAIT_SECONDS}s (${COMPOSE[*]} logs $s)"
			done
		elif have apt-get; then
			local s
			for s in "${missing[@]}"; do
				case "$s" in
				postgres) start_local_postgres ;;
				redis) start_local_redis ;;
				esac
			done
		else
			die "PostgreSQL/Redis not reachable on 127.0.0.1 (${missing[*]}), no Docker engine, no apt-get.
  Start them yourself, or point DATABASE_URL and REDIS_URL at running servers."
		fi
	fi

	local redacted="${pg_url/:\/\/*@/://***@}"
	wait_until "$FUPIN_WAIT_SECONDS" "PostgreSQL at $redacted" pg_ready "$pg_url" ||
		die "PostgreSQL at $redacted is not accepting connections after ${FUPIN_WAIT_SECONDS}s"
	wait_until "$FUPIN_WAIT_SECONDS" "Redis at ${redis_url/:\/\/*@/://***@}" redis_ready "$redis_url" ||
		die "Redis at ${redis_url/:\/\/*@/://***@} does not answer PING after ${FUPIN_WAIT_SECONDS}s"

	local err
	err="$(pg_login "$pg_url")" && return 0
	if ((pg_local)) && [[ $err == *authentication* || $err == *password* || $err == *pg_hba* ]] &&
		allow_local_postgres_login &&
		wait_until 10 "PostgreSQL to reload pg_hba.conf" pg_login "$pg_url"; then
		return 0
	fi
	die "cannot log in to PostgreSQL at $redacted: ${err}
  Set DATABASE_URL (and TEST_DATABASE_URL for tests) to a URL with a user and password that work."
}

# admin_url: the URL of the maintenance database (postgres) on the server the project uses.
admin_url() {
	if [[ -n ${DATABASE_URL:-} ]]; then
		url_with_db "$DATABASE_URL" postgres
	else
		printf '%s\n' "$FUPIN_LOCAL_PG_URL"
	fi
}

# ensure_database NAME [ADMIN_URL]: creates database NAME unless it exists.
ensure_database() {
	local name="$1" url="${2:-$(admin_url)}"
	[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "ensure_database: bad database name '$name'"
	local exists
	exists="$(psql_admin "$url" -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" ||
		die "ensure_database: cannot query PostgreSQL"
	[[ $exists == 1 ]] && return 0
	info "creating database $name"
	if ! psql_admin "$url" -c "CREATE DATABASE \"$name\"" >/dev/null 2>&1; then
		# Another process may have created it meanwhile.
		exists="$(psql_admin "$url" -c "SELECT 1 FROM pg_database WHERE datname = '$name'")"
		[[ $exists == 1 ]] || die "ensure_database: CREATE DATABASE $name failed"
	fi
}

# psql_admin ADMIN_URL ARGS...: psql on the admin database, through the local client or, without
# one, the compose service's.
psql_admin() {
	local url="$1"
	shift
	if have psql; then
		env PGCONNECT_TIMEOUT=5 psql "$url" -XAtq -v ON_ERROR_STOP=1 "$@"
	elif compose_cmd && [[ -n "$("${COMPOSE[@]}" ps -q postgres 2>/dev/null)" ]]; then
		"${COMPOSE[@]}" exec -T postgres psql -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 "$@"
	else
		die "psql not found (Debian: apt-get install postgresql-client)"
	fi
}

# with_demo_database NAME BIN CMD...: runs CMD over a database of this run's own, NAME_<pid>
# (two runs at once, say the browser tests and Lighthouse, never drop each other's), migrated by
# BIN and holding the demo, with DATABASE_URL and a Redis prefix naming it; drops it afterwards.
# Returns CMD's status.
with_demo_database() {
	local name="$1_$$" bin="$2" rc=0
	shift 2
	ensure_database "$name"
	(
		export DATABASE_URL="$(url_with_db "$(admin_url)" "$name")" REDIS_PREFIX="fupin-$name:" LOG_FORMAT=text LOG_LEVEL=warn
		"$bin" migrate up >/dev/null && "$bin" demo >/dev/null && "$@"
	) || rc=$?
	psql_admin "$(admin_url)" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 ||
		warn "could not drop the database $name"
	return "$rc"
}

# ensure_test_database: the database that test helpers connect to when no URL is set
# (internal/platform/dbtest: postgres://postgres@127.0.0.1:5432/test). They create their own
# databases from it; it just has to exist.
ensure_test_database() {
	if [[ -z ${TEST_DATABASE_URL:-} && -z ${DATABASE_URL:-} ]]; then
		ensure_database test
	fi
}

# ensure_go: makes `go` callable (adding /usr/local/go/bin and GOPATH/bin to PATH if needed).
ensure_go() {
	if ! have go; then
		local d
		for d in /usr/local/go/bin "$HOME/go/bin" "$HOME/sdk/go/bin"; do
			if [[ -x $d/go ]]; then
				export PATH="$PATH:$d"
				break
			fi
		done
	fi
	if ! have go; then
		local want
		want="$(awk '$1 == "go" { print $2; exit }' "$FUPIN_ROOT/go.mod" 2>/dev/null)"
		die "Go not found. Install Go ${want:-1.26} or newer from https://go.dev/dl/, e.g.
  curl -fsSL https://go.dev/dl/go${want:-1.26.0}.linux-amd64.tar.gz | sudo tar -C /usr/local -xz
  export PATH=\$PATH:/usr/local/go/bin"
	fi
}

# ensure_test_tools: Chromium (scan page tests), a CJK font (PDF labels), zbarimg (QR decoding),
# pdftoppm (rendering label sheets to check them), LibreOffice Calc without a GUI (opening CSV and
# XLSX exports as a clerk's spreadsheet would) and, without a Docker CLI, docker-compose (to
# validate docker-compose.yml).
# Installed through apt when missing; a failure is a warning here, and the tests that need the tool
# then fail saying which package to install.
ensure_test_tools() {
	local -a pkgs=()
	[[ -x /usr/bin/chromium ]] || pkgs+=(chromium)
	[[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] || pkgs+=(fonts-wqy-microhei)
	have zbarimg || pkgs+=(zbar-tools)
	have pdftoppm || pkgs+=(poppler-utils)
	have soffice || pkgs+=(libreoffice-calc-nogui)
	# A docker CLI without its compose plugin cannot validate the file either.
	{ have docker && docker compose version >/dev/null 2>&1; } || have docker-compose || pkgs+=(docker-compose)
	((${#pkgs[@]})) || return 0
	if ! have apt-get; then
		warn "missing test tools (${pkgs[*]}) and no apt-get: tests that need them will fail"
		return 0
	fi
	apt_install "${pkgs[@]}" || warn "could not install ${pkgs[*]}: tests that need them will fail"
}

# node_recent: whether the node on PATH is 18.18 or later, which the console's build (Vite), its
# tests and the OpenAPI validators need (README); older ones fail later with obscure syntax errors.
node_recent() {
	have node && node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 18) ? 0 : 1)' 2>/dev/null
}

# ensure_node: makes node (18.18 or later) and npm callable, installing Debian's nodejs and npm
# (18.19 on Debian 12) when either is missing or node is too old.
ensure_node() {
	have npm && node_recent && return 0
	have node && ! node_recent && info "Node.js $(node --version 2>/dev/null) is older than 18.18; installing Debian's nodejs"
	apt_install nodejs npm || die "could not install Node.js (Debian: apt-get install nodejs npm)"
	hash -r
	node_recent || die "Node.js $(node --version 2>/dev/null) at $(command -v node) is older than 18.18, which the console and the OpenAPI validators need: install a newer one (Debian 12's nodejs, or nodejs.org) and put it first on PATH"
	have npm || die "npm is missing (Debian: apt-get install npm)"
}

# openapi_check: holds api/openapi.yaml to two independent validators, at the versions that
# scripts/openapi-check/package-lock.json pins: @redocly/cli lint (its recommended rules, with the
# style rules that scripts/openapi-check/redocly.yaml turns off and why; any error fails) and
# @apidevtools/swagger-parser validate (the official OpenAPI schema, every $ref resolved).
# `npm ci` runs only when node_modules is missing or older than the lock file.
openapi_check() {
	local dir="$FUPIN_ROOT/scripts/openapi-check"
	ensure_node
	if [[ ! -f $dir/node_modules/.package-lock.json || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
		info "installing the OpenAPI validators (npm ci in scripts/openapi-check)"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2 || die "npm ci in $dir failed"
	fi
	info "validating api/openapi.yaml with @redocly/cli lint and @apidevtools/swagger-parser"
	(
		cd "$dir" || exit 1
		REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1 \
			./node_modules/.bin/redocly lint --config redocly.yaml --format stylish ../../api/openapi.yaml
	) >&2 || die "api/openapi.yaml fails @redocly/cli lint (above)"
	(cd "$dir" && node validate.mjs ../../api/openapi.yaml) >&2 ||
		die "api/openapi.yaml fails @apidevtools/swagger-parser validate (above)"
}

# console_tests: the console's unit tests (vitest), then its browser tests (console/e2e/run.mjs:
# playwright-core driving Debian's Chromium, installed here if missing, against `fupin serve` on a
# port of its own, over a fresh database console_e2e_<pid> holding the demo, with a Redis prefix of
# its own). Needs scripts/console.sh to have built the console. Screenshots: artifacts/console/.
# FUPIN_CONSOLE=0 skips them.
console_tests() {
	[[ ${FUPIN_CONSOLE:-1} == 0 ]] && return 0
	info "console unit tests (vitest)"
	(cd "$FUPIN_ROOT/console" && ./node_modules/.bin/vitest run --reporter=dot) >&2 || die "console unit tests failed (above)"
	[[ -x /usr/bin/chromium ]] || apt_install chromium || die "the console's browser tests need Chromium (Debian: apt-get install chromium)"
	local bin="$FUPIN_ROOT/bin/fupin-console-e2e"
	info "console browser tests (database console_e2e_$$, screenshots in artifacts/console/)"
	go build -o "$bin" ./cmd/fupin || die "go build failed"
	with_demo_database console_e2e "$bin" console_e2e_run "$bin" >&2 ||
		die "console browser tests failed (above; screenshots in artifacts/console/)"
}

console_e2e_run() {
	cd "$FUPIN_ROOT/console" && FUPIN_BIN="$1" node e2e/run.mjs
}

# console_lighthouse: scripts/lighthouse.sh (scripts/lighthouse/run.mjs: Lighthouse's mobile
# profile on the login and catalogue pages, against `fupin serve` over a fresh database
# console_lighthouse_<pid> holding the demo). `npm ci` runs only when node_modules is missing or older
# than the lock file. FUPIN_CONSOLE=0 skips it.
console_lighthouse() {
	[[ ${FUPIN_CONSOLE:-1} == 0 ]] && return 0
	local dir="$FUPIN_ROOT/scripts/lighthouse"
	ensure_node
	if [[ ! -f $dir/node_modules/.package-lock.json || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
		info "installing Lighthouse (npm ci in scripts/lighthouse)"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2 || die "npm ci in $dir failed"
	fi
	[[ -x /usr/bin/chromium ]] || apt_install chromium || die "Lighthouse needs Chromium (Debian: apt-get install chromium)"
	local bin="$FUPIN_ROOT/bin/fupin-lighthouse"
	info "Lighthouse on the console (database console_lighthouse_$$, reports in artifacts/console/)"
	go build -o "$bin" ./cmd/fupin || die "go build failed"
	with_demo_database console_lighthouse "$bin" env FUPIN_BIN="$bin" node "$dir/run.mjs" >&2 ||
		die "Lighthouse: the console is under the bar (above; reports in artifacts/console/)"
}
