#!/bin/sh
# tests/redis/run.sh BIN - run the ds_redis.h tests (BIN, built by
# mk/redis.mk) against redis-server instances it starts itself: one node
# on a unix socket, one more with the limiter module (DS_REDIS_MODULE, the
# .so mk/redis.mk builds) loaded, three independent nodes (ketama shards;
# the first and the last load the module, the middle one does not) and a
# Redis Cluster of three masters with one replica each on free local ports,
# every cluster node with the module (the failover test kills a master),
# no persistence, all
# under build/redis/<pid>/. Every server is stopped on exit, also on
# failure or interrupt. Forwards BIN's output (its last line is
# "N passed, M failed, K skipped") and exit status. Without redis-server
# it fails and says what to install.
set -u
bin=${1:?usage: run.sh TEST_BINARY}
fail() {
    echo "redis tests: $*"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
}
for t in redis-server redis-cli; do
    command -v $t >/dev/null 2>&1 ||
        fail "$t not found: install redis-server and redis-tools (Debian: apt-get install redis-server redis-tools libhiredis-dev; tools/deps.sh check does)"
done
root=$(cd "$(dirname "$0")/../.." && pwd)
module=${DS_REDIS_MODULE:-$root/build/ds_limit_module.so}
[ -f "$module" ] || fail "the limiter module $module is missing (make build/ds_limit_module.so)"
case $module in /*) ;; *) module="$(pwd)/$module" ;; esac
dir="$root/build/redis/$$"
rm -rf "$dir"; mkdir -p "$dir" || fail "cannot create $dir"
stop_all() {
    for p in "$dir"/*.pid; do
        [ -f "$p" ] || continue
        pid=$(cat "$p" 2>/dev/null) && [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$dir"
}
trap 'stop_all' EXIT
trap 'stop_all; exit 1' INT TERM HUP

# A free port below 55535 whose cluster bus port (+10000) is free too:
# tried by binding when python3 is there, else by pinging.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c '
import random, socket
while True:
    p = random.randint(20000, 45000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass'
    else
        while :; do
            p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 25000 ))
            redis-cli -p $p ping >/dev/null 2>&1 || redis-cli -p $((p + 10000)) ping >/dev/null 2>&1 || { echo $p; return; }
        done
    fi
}
# start NAME ARGS...: a redis-server in the background; its pid in NAME.pid.
start() {
    name=$1; shift
    redis-server --save '' --appendonly no --daemonize no --dir "$dir" --logfile "$dir/$name.log" \
        --enable-debug-command local "$@" &
    echo $! > "$dir/$name.pid"
}
wait_up() { # wait_up redis-cli-args...
    i=0
    while [ $i -lt 100 ]; do
        [ "$(redis-cli "$@" ping 2>/dev/null)" = PONG ] && return 0
        i=$((i + 1)); sleep 0.05
    done
    return 1
}

start single --port 0 --unixsocket "$dir/single.sock"
start msingle --port 0 --unixsocket "$dir/msingle.sock" --loadmodule "$module" --enable-module-command local
shards=""
for i in 1 2 3; do
    p=$(free_port)
    if [ $i = 2 ]; then start shard$i --port $p --bind 127.0.0.1
    else start shard$i --port $p --bind 127.0.0.1 --loadmodule "$module"; fi
    shards="$shards${shards:+,}127.0.0.1:$p"
done
cports=""
for i in 1 2 3 4 5 6; do
    p=$(free_port)
    start cluster-$p --port $p --bind 127.0.0.1 --cluster-enabled yes \
        --cluster-config-file "$dir/nodes-$p.conf" --cluster-node-timeout 1000 --loadmodule "$module"
    cports="$cports $p"
done
wait_up -s "$dir/single.sock" || fail "redis-server did not start (see $dir/single.log)"
wait_up -s "$dir/msingle.sock" || fail "redis-server with $module did not start (see $dir/msingle.log)"
for s in $(echo "$shards" | tr ',' ' '); do
    wait_up -p "${s##*:}" || fail "redis-server on $s did not start"
done
cnodes=""
for p in $cports; do
    wait_up -p $p || fail "cluster node on port $p did not start"
    cnodes="$cnodes${cnodes:+ }127.0.0.1:$p"
done
redis-cli --cluster create $cnodes --cluster-replicas 1 --cluster-yes >"$dir/cluster-create.log" 2>&1 ||
    { cat "$dir/cluster-create.log"; fail "redis-cli --cluster create failed"; }
# every node agrees, and every replica has synced (a failover needs it)
i=0
for p in $cports; do
    while [ "$(redis-cli -p $p cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_state://p')" != ok ]; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "the cluster did not reach cluster_state:ok"
        sleep 0.05
    done
done
for p in $cports; do
    while redis-cli -p $p info replication | tr -d '\r' | grep -q '^role:slave' &&
          ! redis-cli -p $p info replication | tr -d '\r' | grep -q '^master_link_status:up'; do
        i=$((i + 1)); [ $i -gt 400 ] && fail "a cluster replica did not sync"
        sleep 0.05
    done
done

DS_REDIS_DIR="$dir" DS_REDIS_SOCK="$dir/single.sock" DS_REDIS_SHARDS="$shards" \
DS_REDIS_MSOCK="$dir/msingle.sock" DS_REDIS_MODULE="$module" \
DS_REDIS_CLUSTER=$(echo "$cnodes" | tr ' ' ',') DS_REDIS_SERVER=$(command -v redis-server) \
    "$bin"
rc=$?
exit $rc
