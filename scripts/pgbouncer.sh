#!/usr/bin/env bash
# A PgBouncer in transaction mode (the Debian package, 1.18 on Debian 12) in front of the test
# PostgreSQL, for the tests that run the application through a transaction pooler
# (cmd/fupin TestThroughTransactionPooler, DB_POOLER=transaction).
#
# Sourced (scripts/test.sh does): `start_pgbouncer` installs pgbouncer if missing, starts one on a
# free loopback port and exports TEST_PGBOUNCER_URL (postgres://postgres@127.0.0.1:PORT/postgres);
# it is stopped and its files removed when the shell exits (an EXIT trap added to any already set).
# Run directly: starts one the same way, prints the export line and leaves it running (stop it
# with `kill $(cat DIR/pgbouncer.pid)`, DIR printed too).
#
# Upstream: TEST_DATABASE_URL, else DATABASE_URL, else 127.0.0.1:5432 as role postgres. Every
# database name is passed through (`* =`), so the per-package databases the tests create are
# reachable at TEST_PGBOUNCER_URL with the database part replaced. Clients are not authenticated
# (auth_type any: the pooler logs in upstream as the upstream URL's role) and it listens on
# 127.0.0.1 only.

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# add_exit_trap CMD: runs CMD when the shell exits, after whatever EXIT trap was already set.
add_exit_trap() {
	local cmd="$1" prev=""
	# `trap -p EXIT` prints `trap -- 'CMD' EXIT` quoted for reuse: let the shell unquote it.
	eval "set -- $(trap -p EXIT)"
	(($# == 4)) && prev="$3"
	# shellcheck disable=SC2064 # expand now: CMD and the previous trap are fixed strings
	trap "${prev:+$prev; }$cmd" EXIT
}

# free_loopback_port: prints a TCP port that nothing listens on at 127.0.0.1, from 10000-19999:
# below Linux's ephemeral range (32768-60999 by default), where the local ends of outgoing
# connections live and a listener's bind fails with "Address already in use" although nothing
# listens (a failover drill's primary met one), and apart from redis-cluster.sh's ports
# (20000-22699 and their buses, 30000-32699).
free_loopback_port() {
	local port i
	for ((i = 0; i < 100; i++)); do
		port=$((10000 + RANDOM % 10000))
		tcp_open 127.0.0.1 "$port" || {
			printf '%s\n' "$port"
			return 0
		}
	done
	return 1
}

# start_pgbouncer [--keep]: see the top of this file. Sets PGBOUNCER_DIR (config, log, pid
# file). Unless --keep, it is stopped when the shell exits.
start_pgbouncer() {
	if ! have pgbouncer && [[ ! -x /usr/sbin/pgbouncer ]]; then
		apt_install pgbouncer || die "could not install pgbouncer (Debian: apt-get install pgbouncer)"
	fi
	local bin
	bin="$(command -v pgbouncer || printf /usr/sbin/pgbouncer)"
	local upstream="${TEST_DATABASE_URL:-${DATABASE_URL:-$FUPIN_LOCAL_PG_URL}}" hp user="postgres" password=""
	read -r -a hp <<<"$(url_host_port "$upstream")"
	local rest="${upstream#*://}"
	rest="${rest%%/*}"
	if [[ $rest == *@* ]]; then
		local creds="${rest%@*}"
		user="${creds%%:*}"
		[[ $creds == *:* ]] && password="${creds#*:}"
	fi
	PGBOUNCER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fupin-pgbouncer.XXXXXX")"
	[[ ${1:-} == --keep ]] || add_exit_trap stop_pgbouncer
	local port
	port="$(free_loopback_port)" || die "no free loopback port for pgbouncer"
	{
		printf '[databases]\n'
		printf '* = host=%s port=%s user=%s%s\n' "${hp[0]}" "${hp[1]}" "$user" "${password:+ password=$password}"
		printf '[pgbouncer]\n'
		printf 'listen_addr = 127.0.0.1\nlisten_port = %s\nunix_socket_dir =\n' "$port"
		printf 'auth_type = any\npool_mode = transaction\n'
		# Hand out idle server connections in turn, not the last used first: a client's next
		# transaction then lands on another server connection, as it does under load, so that
		# state left on one (a prepared statement, a session lock) shows at once.
		printf 'server_round_robin = 1\n'
		printf 'max_client_conn = 1000\ndefault_pool_size = 20\nmax_db_connections = 40\n'
		printf 'ignore_startup_parameters = extra_float_digits,options\n'
		printf 'logfile = %s/pgbouncer.log\npidfile = %s/pgbouncer.pid\n' "$PGBOUNCER_DIR" "$PGBOUNCER_DIR"
	} >"$PGBOUNCER_DIR/pgbouncer.ini"
	chmod 0600 "$PGBOUNCER_DIR/pgbouncer.ini"
	local -a run_as=()
	# PgBouncer refuses to run as root: drop to the postgres user (Debian creates it) or nobody.
	if [[ ${EUID:-$(id -u)} -eq 0 ]]; then
		local u=nobody
		id postgres >/dev/null 2>&1 && u=postgres
		chown -R "$u" "$PGBOUNCER_DIR"
		run_as=(-u "$u")
	fi
	"$bin" -d "${run_as[@]}" "$PGBOUNCER_DIR/pgbouncer.ini" >"$PGBOUNCER_DIR/start.log" 2>&1 ||
		die "pgbouncer did not start: $(cat "$PGBOUNCER_DIR/start.log" "$PGBOUNCER_DIR/pgbouncer.log" 2>/dev/null | tail -n 5)"
	export TEST_PGBOUNCER_URL="postgres://${user}@127.0.0.1:${port}/postgres?sslmode=disable"
	wait_until 20 "pgbouncer on 127.0.0.1:$port" pg_login "$TEST_PGBOUNCER_URL" ||
		die "pgbouncer on 127.0.0.1:$port does not let us in: $(pg_login "$TEST_PGBOUNCER_URL"; tail -n 5 "$PGBOUNCER_DIR/pgbouncer.log")"
	info "pgbouncer (transaction mode) on 127.0.0.1:$port in front of ${hp[0]}:${hp[1]}"
}

# stop_pgbouncer: stops the pgbouncer start_pgbouncer started and removes its files.
stop_pgbouncer() {
	[[ -n ${PGBOUNCER_DIR:-} && -d $PGBOUNCER_DIR ]] || return 0
	local pid
	pid="$(cat "$PGBOUNCER_DIR/pgbouncer.pid" 2>/dev/null)"
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null || true
		for _ in {1..50}; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -rf "$PGBOUNCER_DIR"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	start_pgbouncer --keep
	printf 'export TEST_PGBOUNCER_URL=%q\n# files and pid: %s\n' "$TEST_PGBOUNCER_URL" "$PGBOUNCER_DIR"
fi
