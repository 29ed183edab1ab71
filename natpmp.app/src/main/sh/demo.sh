#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# natpmpd demo: a throw-away lab of three network namespaces (LAN host, gateway, WAN host) joined by veth pairs,
# the real daemon in the gateway (started by ./natpmpd), a port mapped with natpmpc from the LAN host and socat
# traffic from the WAN host through it. The Web Console stays reachable on the host at 127.0.0.1:8080 (through a
# unix socket bridged into the gateway namespace). Runs in the foreground; Ctrl-C or SIGTERM removes everything.
#
#   sudo ./natpmpd demo            environment: NATPMPD_DEMO_PORT (host console port, default 8080)
#
#   [LAN host] eth0 192.168.50.10 ── lan0 192.168.50.1 [gateway] wan0 203.0.113.1 ── eth0 203.0.113.2 [WAN host]
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/../../../.." && pwd)
console_port=${NATPMPD_DEMO_PORT:-8080}
internal_port=5000
suggested_port=45000

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, iptables): sudo ./natpmpd demo"
for tool in ip iptables natpmpc socat curl; do
    command -v "$tool" >/dev/null || die "missing tool '$tool' (apt-get install iproute2 iptables natpmpc socat curl)"
done
if ss -Hltn "sport = :$console_port" | grep -q .; then
    die "127.0.0.1:$console_port is in use; choose another with NATPMPD_DEMO_PORT=<port>"
fi

id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
lan="npdemo$id-lan"
gw="npdemo$id-gw"
wan="npdemo$id-wan"
work=$(mktemp -d "${TMPDIR:-/tmp}/natpmpd-demo.XXXXXX")
namespaces=()
pids=()
daemon_pid=

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    step "cleaning up"
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        info "stopping natpmpd (pid $daemon_pid, SIGTERM)"
        kill -TERM "$daemon_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    sleep 0.3
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    local ns
    for ns in "${namespaces[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null && info "deleted namespace $ns"
    done
    rm -rf -- "$work"
    info "removed $work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# background LOG COMMAND...: a simple command (never a shell function) so that $! is the command itself:
# bash execs it in the forked child, and so does `ip netns exec`; the PIDs we signal are the real programs
background() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    pids+=("$!")
}

step "building the lab: namespaces $lan, $gw, $wan"
for ns in "$lan" "$gw" "$wan"; do
    ip netns add "$ns"
    namespaces+=("$ns")
    ip -n "$ns" link set lo up
done
ip -n "$gw" link add lan0 type veth peer name eth0 netns "$lan"
ip -n "$gw" link add wan0 type veth peer name eth0 netns "$wan"
ip -n "$gw" addr add 192.168.50.1/24 dev lan0
ip -n "$gw" addr add 203.0.113.1/24 dev wan0
ip -n "$lan" addr add 192.168.50.10/24 dev eth0
ip -n "$wan" addr add 203.0.113.2/24 dev eth0
for link in "$gw lan0" "$gw wan0" "$lan eth0" "$wan eth0"; do
    read -r ns dev <<<"$link"
    ip -n "$ns" link set "$dev" up
done
ip -n "$lan" route add default via 192.168.50.1
in_ns "$gw" sysctl -q -w net.ipv4.ip_forward=1
# a home router's own firewall: nothing comes in unless a mapping lets it
in_ns "$gw" iptables -P FORWARD DROP
in_ns "$gw" iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
in_ns "$gw" iptables -A FORWARD -i lan0 -j ACCEPT
in_ns "$gw" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
info "LAN host 192.168.50.10 -> gateway 192.168.50.1 | 203.0.113.1 -> WAN host 203.0.113.2 (no route to the LAN)"

step "starting natpmpd in the gateway: ./natpmpd -i wan0 -a 192.168.50.1 --http 127.0.0.1:8080"
ip netns exec "$gw" "$root/natpmpd" -i wan0 -a 192.168.50.1 --state "$work/state" --load "$work/load" \
    --http 127.0.0.1:8080 >"$work/natpmpd.log" 2>&1 &
daemon_pid=$!
info "pid $daemon_pid, log $work/natpmpd.log"
ready=
for _ in $(seq 180); do
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/natpmpd.log" >&2; die "natpmpd exited"; }
    if in_ns "$lan" timeout 2 natpmpc -g 192.168.50.1 2>/dev/null | grep -q 'Public IP address : 203.0.113.1'; then
        ready=1
        break
    fi
    sleep 0.5
done
[ -n "$ready" ] || { cat "$work/natpmpd.log" >&2; die "natpmpd did not answer within 90 s"; }
info "natpmpd answers NAT-PMP on 192.168.50.1:5351"
grep -o "web console user .*" "$work/natpmpd.log" | sed 's/^/    /' || true

step "LAN host asks for its external address: natpmpc -g 192.168.50.1"
in_ns "$lan" natpmpc -g 192.168.50.1 | grep -E 'Public IP|epoch' | sed 's/^/    /'

step "LAN host listens on TCP $internal_port (socat) and maps it: natpmpc -a $suggested_port $internal_port tcp 3600"
background "$work/listener.log" ip netns exec "$lan" socat -u "TCP4-LISTEN:$internal_port,reuseaddr,fork" STDOUT
map_output=$(in_ns "$lan" natpmpc -g 192.168.50.1 -a "$suggested_port" "$internal_port" tcp 3600)
mapped=$(sed -n 's/^Mapped public port \([0-9]*\) protocol TCP.*/\1/p' <<<"$map_output")
[ -n "$mapped" ] && [ "$mapped" != 0 ] || { printf '%s\n' "$map_output" >&2; die "mapping failed"; }
grep '^Mapped' <<<"$map_output" | sed 's/^/    /'

step "WAN host connects to 203.0.113.1:$mapped"
message="hello from the WAN host at $(date +%T)"
delivered=
for _ in $(seq 10); do
    if printf '%s\n' "$message" | in_ns "$wan" socat -u STDIN "TCP4:203.0.113.1:$mapped,connect-timeout=2" 2>/dev/null \
        && grep -qF "$message" "$work/listener.log"; then
        delivered=1
        break
    fi
    sleep 0.5
done
[ -n "$delivered" ] || die "traffic did not pass the mapping"
info "the LAN host received: $(grep -F "$message" "$work/listener.log")"

step "the gateway's rules (iptables-save, chains NATPMP-*)"
in_ns "$gw" iptables-save | grep -E 'NATPMP' | sed 's/^/    /' || true

step "Web Console on this host: http://127.0.0.1:$console_port/system/console"
# host 127.0.0.1:PORT -> unix socket -> socat in the gateway namespace -> the console on its 127.0.0.1:8080
background "$work/console-gw.log" ip netns exec "$gw" socat "UNIX-LISTEN:$work/console.sock,fork" TCP4:127.0.0.1:8080
for _ in $(seq 50); do [ -S "$work/console.sock" ] && break; sleep 0.1; done
background "$work/console-host.log" socat "TCP4-LISTEN:$console_port,bind=127.0.0.1,reuseaddr,fork" \
    "UNIX-CONNECT:$work/console.sock"
code=000
for _ in $(seq 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$console_port/system/console/bundles" \
        || true)
    [ "$code" = 401 ] || [ "$code" = 200 ] && break
    sleep 0.2
done
info "console answers HTTP $code without credentials (user admin, password printed above)"

step "running; Ctrl-C (or SIGTERM) stops natpmpd and removes the lab. natpmpd log follows:"
tail -n +1 -f "$work/natpmpd.log" &
pids+=("$!")
wait "$daemon_pid" || true
daemon_pid=
die "natpmpd exited on its own"
