#!/usr/bin/env bash
# Redis Clusters of three masters (Debian's redis-server, no replicas) on loopback, for the tests
# that run the cache, the scan path and the sessions on a cluster (docs/scaling.md, "Redis").
#
# Sourced (scripts/test.sh does): `start_redis_clusters` installs redis-server and redis-tools if
# missing, starts two clusters on free loopback ports in a temporary directory and exports
#   TEST_REDIS_CLUSTER_ADDRS            host:port,host:port,host:port of one, shared by the tests
#   TEST_REDIS_CLUSTER_STOPPABLE_ADDRS  of the other, whose masters a test may shut down and start
#                                       again (the master-lost test of internal/trace)
# They are stopped and their files removed when the shell exits (an EXIT trap added to any set).
# Run directly: starts them the same way, prints the export lines and leaves them running (stop
# them with `kill $(cat DIR/*/redis.pid)`, DIR printed too).
#
# Each node has its own config file (redis.conf in its directory, which `redis-server FILE` starts
# it again from, with its slots) and keeps nothing on disk but its cluster state (nodes.conf): no
# RDB, no AOF, as a cache. cluster-require-full-coverage is off, so that the masters left serve
# their slots while one is down: the application counts the lost slots' scans in PostgreSQL.

# shellcheck source=scripts/pgbouncer.sh
source "$(dirname "${BASH_SOURCE[0]}")/pgbouncer.sh" # lib.sh, add_exit_trap, free_loopback_port

# start_redis_cluster DIR: starts a three-master cluster under DIR and prints its addresses
# (comma-separated).
start_redis_cluster() {
	local dir="$1" port try ports=() addrs=()
	for _ in 1 2 3; do
		for try in {1..50}; do
			# The cluster bus listens on port + 10000. Both stay below Linux's ephemeral range
			# (32768 and up), where any outgoing connection may take a port between our check and
			# redis-server's bind; and neither may be one this script has handed out already (a
			# node started a moment ago may not have bound yet).
			port=$((20000 + RANDOM % 2700))
			[[ " ${REDIS_CLUSTER_TAKEN:-} " != *" $port "* && " ${REDIS_CLUSTER_TAKEN:-} " != *" $((port + 10000)) "* ]] &&
				! tcp_open 127.0.0.1 "$port" && ! tcp_open 127.0.0.1 $((port + 10000)) && break
			((try < 50)) || die "no free loopback port pair (P, P+10000) for Redis Cluster in 20000-32699"
		done
		REDIS_CLUSTER_TAKEN="${REDIS_CLUSTER_TAKEN:-} $port $((port + 10000))"
		mkdir -p "$dir/$port"
		cat >"$dir/$port/redis.conf" <<-CONF
			bind 127.0.0.1
			port $port
			dir $dir/$port
			daemonize yes
			pidfile $dir/$port/redis.pid
			logfile $dir/$port/redis.log
			save ""
			appendonly no
			cluster-enabled yes
			cluster-config-file nodes.conf
			cluster-node-timeout 2000
			cluster-require-full-coverage no
		CONF
		redis-server "$dir/$port/redis.conf" >/dev/null ||
			die "redis-server on 127.0.0.1:$port did not start: $(tail -n 5 "$dir/$port/redis.log" 2>/dev/null)"
		ports+=("$port")
		addrs+=("127.0.0.1:$port")
	done
	for port in "${ports[@]}"; do
		wait_until 20 "Redis on 127.0.0.1:$port" redis-cli -p "$port" ping ||
			die "Redis on 127.0.0.1:$port does not answer: $(tail -n 5 "$dir/$port/redis.log")"
	done
	redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 ||
		die "redis-cli --cluster create failed: $(tail -n 5 "$dir/create.log")"
	for port in "${ports[@]}"; do
		wait_until 30 "Redis Cluster node 127.0.0.1:$port" cluster_ok "$port" ||
			die "Redis Cluster node 127.0.0.1:$port is not ok: $(redis-cli -p "$port" cluster info | head -n 3)"
	done
	local IFS=,
	printf '%s\n' "${addrs[*]}"
}

# cluster_ok PORT: does the node on PORT see the cluster as ok, with every slot assigned?
cluster_ok() {
	local info
	info="$(redis-cli -p "$1" cluster info 2>/dev/null)" || return 1
	[[ $info == *cluster_state:ok* && $info == *cluster_slots_assigned:16384* ]]
}

# start_redis_clusters [--keep]: see the top of this file. Sets REDIS_CLUSTER_DIR.
start_redis_clusters() {
	if ! have redis-server || ! have redis-cli; then
		apt_install redis-server redis-tools ||
			die "could not install redis-server (Debian: apt-get install redis-server redis-tools)"
	fi
	REDIS_CLUSTER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fupin-redis-cluster.XXXXXX")"
	[[ ${1:-} == --keep ]] || add_exit_trap stop_redis_clusters
	TEST_REDIS_CLUSTER_ADDRS="$(start_redis_cluster "$REDIS_CLUSTER_DIR/shared")" || exit 1
	TEST_REDIS_CLUSTER_STOPPABLE_ADDRS="$(start_redis_cluster "$REDIS_CLUSTER_DIR/stoppable")" || exit 1
	export TEST_REDIS_CLUSTER_ADDRS TEST_REDIS_CLUSTER_STOPPABLE_ADDRS
	info "Redis Clusters of three masters: $TEST_REDIS_CLUSTER_ADDRS and $TEST_REDIS_CLUSTER_STOPPABLE_ADDRS"
}

# stop_redis_clusters: stops every node start_redis_clusters started and removes their files.
stop_redis_clusters() {
	[[ -n ${REDIS_CLUSTER_DIR:-} && -d $REDIS_CLUSTER_DIR ]] || return 0
	local f pid pids=()
	for f in "$REDIS_CLUSTER_DIR"/*/*/redis.pid; do
		[[ -f $f ]] || continue
		pid="$(cat "$f" 2>/dev/null)"
		[[ -n $pid ]] && kill "$pid" 2>/dev/null && pids+=("$pid")
	done
	for pid in "${pids[@]}"; do
		for _ in {1..50}; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done
	rm -rf "$REDIS_CLUSTER_DIR"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	start_redis_clusters --keep
	printf 'export TEST_REDIS_CLUSTER_ADDRS=%q TEST_REDIS_CLUSTER_STOPPABLE_ADDRS=%q\n# files and pids: %s\n' \
		"$TEST_REDIS_CLUSTER_ADDRS" "$TEST_REDIS_CLUSTER_STOPPABLE_ADDRS" "$REDIS_CLUSTER_DIR"
fi
