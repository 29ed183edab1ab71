#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench.sh: NAT-PMP daemon benchmark in a throw-away namespace lab (needs root). See natpmp.bench/README.md.
#   sudo natpmp.bench/bench.sh [--backend nftables|iptables] [--seconds S] [--mappings N] [--keep]
# Builds LAN host / gateway / WAN host namespaces, starts ./natpmpd (-Xmx32m) and a UDP echo server in the
# gateway, drives both from the LAN host with natpmp.bench.LoadGen and prints one table row per measurement,
# each checked against the goals of the benchmark issue. Exit status 0 when every goal passed, 1 otherwise.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
jar="$root/natpmp.bench/target/natpmp.bench-0.1.0-SNAPSHOT.jar"
seconds=3
mappings=10000
keep=0
backend=nftables

usage() {
    echo "usage: $0 [--backend nftables|iptables (nftables)] [--seconds S (3)] [--mappings N (10000)] [--keep (leave the temp folder with logs)]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
        --backend) [ $# -ge 2 ] || usage; backend=$2; shift 2 ;;
        --mappings) [ $# -ge 2 ] || usage; mappings=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage ;;
        *) echo "$0: unknown argument '$1'" >&2; usage ;;
    esac
done
[[ "$backend" =~ ^(nftables|iptables)$ ]] || { echo "$0: --backend: nftables or iptables" >&2; exit 2; }
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "$0: --seconds: a positive number" >&2; exit 2; }
[[ "$mappings" =~ ^[1-9][0-9]*$ ]] && [ "$mappings" -le 20000 ] \
    || { echo "$0: --mappings: 1..20000 (ports 10000..29999 are set aside for them)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (network namespaces): sudo $0" >&2; exit 1; }
if [ ! -f "$jar" ]; then
    echo "$0: $jar is missing; build it first: (cd $root && mvn -o -B -q -pl natpmp.bench install)" >&2
    exit 1
fi

# ---- goals (from the benchmark issue) -------------------------------------------------------------------------
ECHO_RATIO=0.95      # opcode 0 against the echo ceiling
MAP_RATE_1=500       # map and delete, 1 client, per second
MAP_RATE_8=1500      # map and delete, 8 clients, per second
FLAT=0.80            # "flat": the rate at N mappings is at least this share of the rate at 0
RENEW_RATE_8=75000   # renew, 8 clients, per second
LATE_MS=250          # no answer later than this, anywhere
RSS_KB=$((128 * 1024))

# ---- lab ------------------------------------------------------------------------------------------------------
tag="nb$$"
lan_ns="$tag-lan"
gw_ns="$tag-gw"
wan_ns="$tag-wan"
gw_lan=192.168.50.1
port=5351
echo_port=5399
tmp=$(mktemp -d "${TMPDIR:-/tmp}/natpmp-bench.XXXXXX")
daemon_pid=
echo_pid=

stop_pid() {
    local pid=$1 i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    set +e
    stop_pid "$echo_pid"
    stop_pid "$daemon_pid"
    local ns pid
    for ns in "$lan_ns" "$gw_ns" "$wan_ns"; do
        # anything still running in our own namespaces was started by this script (e.g. an interrupted LoadGen)
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
    if [ "$keep" -eq 1 ] || { [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; }; then
        echo "bench: logs kept in $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "bench: $*" >&2
    if [ -f "$tmp/daemon.log" ]; then
        echo "---- daemon log (tail) ----" >&2
        tail -n 40 "$tmp/daemon.log" >&2
    fi
    keep=1
    exit 3
}

ip netns add "$lan_ns"
ip netns add "$gw_ns"
ip netns add "$wan_ns"
ip -n "$gw_ns" link add lan0 type veth peer name eth0 netns "$lan_ns"
ip -n "$gw_ns" link add wan0 type veth peer name eth0 netns "$wan_ns"
ip -n "$gw_ns" addr add "$gw_lan/24" dev lan0
ip -n "$gw_ns" addr add 203.0.113.1/24 dev wan0
ip -n "$lan_ns" addr add 192.168.50.10/24 dev eth0
ip -n "$wan_ns" addr add 203.0.113.2/24 dev eth0
for ns in "$lan_ns" "$gw_ns" "$wan_ns"; do
    ip -n "$ns" link set lo up
done
ip -n "$gw_ns" link set lan0 up
ip -n "$gw_ns" link set wan0 up
ip -n "$lan_ns" link set eth0 up
ip -n "$wan_ns" link set eth0 up
ip -n "$lan_ns" route add default via "$gw_lan"
ip -n "$wan_ns" route add 192.168.50.0/24 via 203.0.113.1
ip netns exec "$gw_ns" sysctl -q -w net.ipv4.ip_forward=1
# a home router's own firewall, as in ./natpmpd demo: nothing comes in unless a mapping lets it
ip netns exec "$gw_ns" iptables -P FORWARD DROP
ip netns exec "$gw_ns" iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip netns exec "$gw_ns" iptables -A FORWARD -i lan0 -j ACCEPT
ip netns exec "$gw_ns" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
# nftables backend: its accept cannot override this table's DROP policy, so the operator step of the README
if [ "$backend" = nftables ]; then
    ip netns exec "$gw_ns" iptables -A FORWARD -m conntrack --ctstate DNAT -j ACCEPT
fi

# ---- daemon and echo server -------------------------------------------------------------------------------------
mkdir -p "$tmp/var" "$tmp/load"
# Limits out of the way: the benchmark measures the daemon, not its abuse protection. ./natpmpd adds -i/-a.
cat > "$tmp/load/natpmp.service.cfg" <<EOF
quota.per.client=100000
limit.global=100000
rate.per.client=1000000
rate.burst=1000000
port.low=1024
port.high=65535
backend.target=(natpmp.backend=$backend)
EOF

NATPMPD_JAVA_OPTS="-Xmx32m ${BENCH_JAVA_OPTS:-}" ip netns exec "$gw_ns" "$root/natpmpd" -i wan0 -a "$gw_lan" \
    --state "$tmp/var" --load "$tmp/load" --http 127.0.0.1:18080 </dev/null >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
ip netns exec "$gw_ns" java -XX:+UseSerialGC -Xmx32m -cp "$jar" natpmp.bench.Echo "$gw_lan" "$echo_port" \
    </dev/null >"$tmp/echo.log" 2>&1 &
echo_pid=$!

loadgen() {
    # bounded: a daemon that stopped answering would otherwise cost one timeout per remaining request
    timeout --kill-after=5 300 ip netns exec "$lan_ns" java -XX:+UseSerialGC -cp "$jar" natpmp.bench.LoadGen "$@"
}

echo "bench: waiting for natpmpd in $gw_ns (log: $tmp/daemon.log) ..." >&2
up=0
for _ in $(seq 1 90); do
    kill -0 "$daemon_pid" 2>/dev/null || fail "natpmpd exited before answering"
    if loadgen probe --server "$gw_lan:$port" --duration-ms 2000 >/dev/null 2>&1; then
        up=1
        break
    fi
done
[ "$up" -eq 1 ] || fail "natpmpd did not answer opcode 0 within 180 s"
# opcode 0 answers before a backend is bound (backends are hot-deployed from the load folder at start)
for _ in $(seq 1 60); do
    grep -q "firewall backend $backend .*holds all\|firewall backend $backend holds all" "$tmp/daemon.log" && break
    sleep 0.5
done
grep -q "firewall backend $backend.*holds all" "$tmp/daemon.log" || fail "backend $backend not in use after 30 s"
loadgen probe --server "$gw_lan:$echo_port" --duration-ms 10000 >/dev/null 2>&1 || fail "echo server did not answer"

# ---- measurements -------------------------------------------------------------------------------------------------
# Each cell is one LoadGen run; its numbers are kept under the key "OP CLIENTS LIVE" and judged at the end. The
# op0 and renew cells alternate between the daemon and the echo server in ~200 ms slices (LoadGen --reference),
# so the ceiling is measured under the same conditions of the host; the op0 cell's echo half becomes the "echo" row
# and the ceiling for the map and delete rows of the same client count and mapping count.
declare -A res              # "OP CLIENTS LIVE FIELD" -> value (rate, p50_ms, p99_ms, max_ms, late, timeouts, ...)
order=()                    # cell keys in table order

# cell OP CLIENTS LIVE -- LoadGen arguments
cell() {
    local op=$1 clients=$2 live=$3 line kv key="$1 $2 $3"
    shift 4
    line=$(loadgen "$@" --clients "$clients" --late-ms "$LATE_MS" || true)
    kill -0 "$daemon_pid" 2>/dev/null || fail "natpmpd died during cell '$key' (see $tmp/daemon.log)"
    if [[ "$line" != result* ]]; then
        order+=("$key")
        res["$key ops"]=none
        echo "bench: $key: LoadGen gave no result" >&2
        return 0
    fi
    for kv in ${line#result }; do
        res["$key ${kv%%=*}"]=${kv#*=}
    done
    if [ "$op" = op0 ] && [ -n "${res["$key ref_rate"]:-}" ]; then
        local echo_key="echo $clients $live" f
        for f in ops rate p50_ms p99_ms max_ms late timeouts errors; do
            res["$echo_key $f"]=${res["$key ref_$f"]}
        done
        order+=("$echo_key")
    fi
    order+=("$key")
    echo "bench: $key: ${line#result }" >&2
}

timed=(--duration-ms $((seconds * 1000)) --warmup-ms 500)
phase() {
    local live=$1 c
    for c in 1 8; do
        local ports="$tmp/map-$c-$live.ports"
        cell op0 "$c" "$live" -- op0 --server "$gw_lan:$port" --reference "$gw_lan:$echo_port" "${timed[@]}"
        # at most 10,000 new mappings a cell, so that the rows 'at N mappings' measure about N (an 8-client cell
        # makes 8,000 a second: uncapped, the 10,000 row ran at up to 40,000)
        cell map "$c" "$live" -- map --server "$gw_lan:$port" "${timed[@]}" --base-port 30000 --count 10000 \
            --ports "$ports"
        cell renew "$c" "$live" -- renew --server "$gw_lan:$port" --reference "$gw_lan:$echo_port" "${timed[@]}" \
            --ports "$ports"
        cell delete "$c" "$live" -- delete --server "$gw_lan:$port" --ports "$ports"
    done
}

phase 0
cell fill 8 0 -- fill --server "$gw_lan:$port" --count "$mappings" --base-port 10000 --ports "$tmp/fill.ports"
granted=$(wc -l < "$tmp/fill.ports" 2>/dev/null || echo 0)
if [ "$granted" -ne "$mappings" ]; then
    # answers that came after the timeout may still have created mappings: the real count is not known exactly
    echo "bench: fill confirmed $granted of $mappings mappings; going on with about that many" >&2
fi
phase "$granted"
cell burst 8 "$granted" -- burst --server "$gw_lan:$port" --count 200 --base-port 25000 --ports "$tmp/burst.ports"

# RSS of the daemon's JVM (./natpmpd and ip netns exec both exec into it, so the PID is the java process)
kill -0 "$daemon_pid" 2>/dev/null || fail "natpmpd is gone"
grep -q natpmpd.jar "/proc/$daemon_pid/cmdline" || fail "PID $daemon_pid is not the natpmpd JVM"
rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$daemon_pid/status")
live_now=$((granted + $(wc -l < "$tmp/burst.ports" 2>/dev/null || echo 0)))

# ---- judgement and table ------------------------------------------------------------------------------------------
failed=0
echo
echo "natpmpd benchmark: $(nproc) CPUs, $(java -version 2>&1 | head -n 1), cells of ${seconds} s, daemon -Xmx32m"
format='%-8s %7s %8s %10s %9s %9s %9s %5s %8s %6s  %-21s %s\n'
# shellcheck disable=SC2059
printf "$format" op clients mappings ops/s p50_ms p99_ms max_ms late timeouts ratio goal result
for key in "${order[@]}"; do
    read -r op clients live <<< "$key"
    base_op=$op
    if [ "${res["$key ops"]}" = none ]; then
        printf "$format" "$op" "$clients" "$live" - - - - - - - "LoadGen failed" FAIL
        failed=1
        continue
    fi
    ceiling=${res["$key ref_rate"]:-${res["echo $clients $live rate"]:-0}}
    ratio=$(awk -v a="${res["$key rate"]}" -v b="$ceiling" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')
    case "$base_op $clients" in
        "echo "*) goal="ceiling" ;;
        "op0 "*) goal="ratio>=$ECHO_RATIO" ;;
        "map 1"|"delete 1") goal=">=$MAP_RATE_1/s" ;;
        "map 8"|"delete 8") goal=">=$MAP_RATE_8/s" ;;
        "renew 8") goal=">=$RENEW_RATE_8/s" ;;
        "burst "*) goal="all<=${LATE_MS}ms" ;;
        *) goal="all<=${LATE_MS}ms" ;;
    esac
    if [ "$live" != 0 ] && [[ "$base_op" == map || "$base_op" == delete ]]; then
        goal="$goal,>=${FLAT}x@0"
    fi
    verdict=$(awk -v op="$base_op" -v c="$clients" -v live="$live" -v rate="${res["$key rate"]}" -v ratio="$ratio" \
        -v max="${res["$key max_ms"]}" -v late="${res["$key late"]}" -v to="${res["$key timeouts"]}" \
        -v err="${res["$key errors"]}" -v ops="${res["$key ops"]}" -v base="${res["$base_op $clients 0 rate"]:-0}" \
        -v er="$ECHO_RATIO" -v m1="$MAP_RATE_1" -v m8="$MAP_RATE_8" -v flat="$FLAT" -v r8="$RENEW_RATE_8" \
        -v lim="$LATE_MS" 'BEGIN {
            ok = ops > 0 && late == 0 && to == 0 && err == 0 && max <= lim
            if (op == "op0" && !(ratio != "-" && ratio >= er)) ok = 0
            if ((op == "map" || op == "delete") && rate < (c == 1 ? m1 : m8)) ok = 0
            if ((op == "map" || op == "delete") && live != 0 && rate < flat * base) ok = 0
            if (op == "renew" && c == 8 && rate < r8) ok = 0
            print ok ? "PASS" : "FAIL" }')
    [ "$verdict" = PASS ] || failed=1
    if [ "${res["$key errors"]}" != 0 ]; then
        verdict="$verdict (${res["$key errors"]} error answers)"
    fi
    # shellcheck disable=SC2059
    printf "$format" "$op" "$clients" "$live" "${res["$key rate"]}" "${res["$key p50_ms"]}" "${res["$key p99_ms"]}" \
        "${res["$key max_ms"]}" "${res["$key late"]}" "${res["$key timeouts"]}" "$ratio" "$goal" "$verdict"
done
rss_verdict=PASS
[ "$rss_kb" -le "$RSS_KB" ] || { rss_verdict=FAIL; failed=1; }
printf 'RSS of the daemon JVM at %d mappings: %d MB (goal <= %d MB) %s\n' "$live_now" $((rss_kb / 1024)) \
    $((RSS_KB / 1024)) "$rss_verdict"
if [ "$failed" -eq 0 ]; then
    echo "all goals met"
else
    echo "some goals missed (FAIL rows)"
fi
exit "$failed"
