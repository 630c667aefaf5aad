#!/usr/bin/env bash
# A PostgreSQL primary and a streaming standby of it on loopback (Debian's PostgreSQL: initdb,
# then pg_basebackup -R), for the replica tests (TEST_REPLICA_PRIMARY_URL, TEST_REPLICA_URL) and
# the failover drill (scripts/failover-drill.sh).
#
# Sourced (scripts/test.sh does): `start_replica_pair` creates both clusters in a temp dir on free
# ports, waits for the standby to stream, exports
#   TEST_REPLICA_PRIMARY_URL  postgres://postgres@127.0.0.1:P1/postgres?sslmode=disable
#   TEST_REPLICA_URL          postgres://postgres@127.0.0.1:P2/postgres?sslmode=disable
# and stops both and removes their files when the shell exits (an EXIT trap added to any already
# set). `start_replica_pair --sync` makes the replication synchronous (synchronous_standby_names),
# so that a commit the primary acknowledged is on the standby: the drill needs it to lose no order.
# Run directly: starts a pair the same way, prints the export lines and leaves it running (stop it
# with `scripts/replica.sh stop DIR`, DIR printed too).
#
# The clusters are throwaway: trust authentication on 127.0.0.1 only, fsync off. Run as root, they
# run as the postgres user (Debian creates it), since PostgreSQL refuses root.

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/pgbouncer.sh
source "$(dirname "${BASH_SOURCE[0]}")/pgbouncer.sh" # add_exit_trap, free_loopback_port

# pg_bin: the directory of Debian's PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup).
pg_bin() {
	local v
	v="$(pg_version 2>/dev/null)" || v="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)"
	[[ -n $v && -x /usr/lib/postgresql/$v/bin/initdb ]] || return 1
	printf '/usr/lib/postgresql/%s/bin\n' "$v"
}

# as_pg CMD...: runs CMD as the user that owns the clusters (postgres when we are root).
as_pg() {
	if [[ ${EUID:-$(id -u)} -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_ctl_dir DIR ARGS...: pg_ctl on the cluster in DIR.
pg_ctl_dir() {
	local dir="$1"
	shift
	as_pg "$REPLICA_PG_BIN/pg_ctl" -D "$dir" -w -t 60 -l "$dir.log" "$@" >/dev/null
}

# start_replica_pair [--sync] [--keep]: see the top of this file. Sets REPLICA_DIR (holds primary/,
# standby/ and their logs), REPLICA_PRIMARY_PORT, REPLICA_STANDBY_PORT, REPLICA_PG_BIN.
start_replica_pair() {
	local sync=0 keep=0 a
	for a in "$@"; do
		case "$a" in
		--sync) sync=1 ;;
		--keep) keep=1 ;;
		esac
	done
	if ! REPLICA_PG_BIN="$(pg_bin)"; then
		apt_install postgresql || die "could not install PostgreSQL (Debian: apt-get install postgresql)"
		REPLICA_PG_BIN="$(pg_bin)" || die "no PostgreSQL server binaries under /usr/lib/postgresql"
	fi
	REPLICA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fupin-replica.XXXXXX")"
	((keep)) || add_exit_trap stop_replica_pair
	[[ ${EUID:-$(id -u)} -eq 0 ]] && chown postgres "$REPLICA_DIR"
	REPLICA_PRIMARY_PORT="$(free_loopback_port)" || die "no free loopback port"
	REPLICA_STANDBY_PORT="$(free_loopback_port)" || die "no free loopback port"
	[[ $REPLICA_STANDBY_PORT != "$REPLICA_PRIMARY_PORT" ]] || REPLICA_STANDBY_PORT=$((REPLICA_PRIMARY_PORT + 1))
	local p="$REPLICA_DIR/primary" s="$REPLICA_DIR/standby"
	as_pg "$REPLICA_PG_BIN/initdb" -D "$p" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$REPLICA_DIR/initdb.log" 2>&1 ||
		die "initdb failed: $(tail -n 5 "$REPLICA_DIR/initdb.log")"
	{
		printf "listen_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" "$REPLICA_DIR"
		printf 'max_connections = 100\nshared_buffers = 32MB\nfsync = off\nfull_page_writes = off\n'
		printf 'wal_level = replica\nmax_wal_senders = 5\nwal_keep_size = 256MB\nhot_standby = on\n'
		printf 'hot_standby_feedback = on\n'
		# Read from the standby the tests' own statistics on it (pg_stat_user_tables).
		printf 'track_counts = on\n'
		if ((sync)); then printf "synchronous_standby_names = '*'\nsynchronous_commit = on\n"; fi
	} | as_pg tee -a "$p/postgresql.conf" >/dev/null
	printf 'host replication postgres 127.0.0.1/32 trust\n' | as_pg tee -a "$p/pg_hba.conf" >/dev/null
	pg_ctl_dir "$p" -o "-p $REPLICA_PRIMARY_PORT" start || die "the replica test primary did not start: $(tail -n 5 "$p.log")"
	as_pg "$REPLICA_PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$REPLICA_PRIMARY_PORT" -U postgres -D "$s" -R -X stream \
		--no-sync >"$REPLICA_DIR/basebackup.log" 2>&1 || die "pg_basebackup failed: $(tail -n 5 "$REPLICA_DIR/basebackup.log")"
	# The standby keeps the primary's settings (copied), on a port of its own; promoted, it has no
	# standby of its own, so it must not wait for one (a failover manager such as Patroni does this).
	if ((sync)); then printf "synchronous_standby_names = ''\n" | as_pg tee -a "$s/postgresql.conf" >/dev/null; fi
	pg_ctl_dir "$s" -o "-p $REPLICA_STANDBY_PORT" start || die "the standby did not start: $(tail -n 5 "$s.log")"
	export TEST_REPLICA_PRIMARY_URL="postgres://postgres@127.0.0.1:${REPLICA_PRIMARY_PORT}/postgres?sslmode=disable"
	export TEST_REPLICA_URL="postgres://postgres@127.0.0.1:${REPLICA_STANDBY_PORT}/postgres?sslmode=disable"
	wait_until 30 "the standby to stream from the primary" replica_streaming ||
		die "the standby on :$REPLICA_STANDBY_PORT does not stream: $(tail -n 5 "$s.log")"
	info "PostgreSQL primary on 127.0.0.1:$REPLICA_PRIMARY_PORT, streaming standby on :$REPLICA_STANDBY_PORT$( ((sync)) && printf ' (synchronous)') in $REPLICA_DIR"
}

# replica_streaming: does the primary see its standby streaming?
replica_streaming() {
	[[ "$(psql "$TEST_REPLICA_PRIMARY_URL" -XAtqc "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null)" -ge 1 ]]
}

# stop_replica_pair [DIR]: stops both clusters (immediately: they are throwaway) and removes them.
stop_replica_pair() {
	local dir="${1:-${REPLICA_DIR:-}}" d
	[[ -n $dir && -d $dir ]] || return 0
	[[ -n ${REPLICA_PG_BIN:-} ]] || REPLICA_PG_BIN="$(pg_bin)" || return 0
	for d in "$dir/standby" "$dir/primary"; do
		[[ -f $d/postmaster.pid ]] && as_pg "$REPLICA_PG_BIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
	done
	rm -rf "$dir"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	if [[ ${1:-} == stop ]]; then
		stop_replica_pair "${2:?usage: scripts/replica.sh stop DIR}"
		exit 0
	fi
	start_replica_pair --keep "$@"
	printf 'export TEST_REPLICA_PRIMARY_URL=%q\nexport TEST_REPLICA_URL=%q\n# files: %s (stop: scripts/replica.sh stop %s)\n' \
		"$TEST_REPLICA_PRIMARY_URL" "$TEST_REPLICA_URL" "$REPLICA_DIR" "$REPLICA_DIR"
fi
