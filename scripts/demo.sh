#!/bin/sh
# The run command of the quick start: installs what is missing, builds, and
# runs the whole pipeline on the bundled sample logs with an embedded
# configuration: a collector and an agent on loopback, container, audit and
# function logs tailed, shipped, stored and checked by the default rules,
# alerts printed from the file sink, and a query over the store. Cleans up
# after itself.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/trawl-demo.XXXXXX")
pids=""
cleanup() {
	for pid in $pids; do kill "$pid" 2>/dev/null || true; done
	for pid in $pids; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_for() { # seconds, command...
	n=$(( $1 * 20 )); shift
	until "$@" >/dev/null 2>&1; do
		n=$((n - 1)); [ $n -gt 0 ] || return 1
		sleep 0.05
	done
}

samples=tests/data/formats
cport=$(free_port)
aport=$(free_port)

# Sample logs laid out as a node has them.
pod=payments-api-7d9c8f5b6-x2k4t_prod_app-b216aeb62f074fa237ca9e6e4c95f413d48e48a8873142996b08f0d09b7161de
mkdir -p "$work/log/containers" "$work/log/kubernetes/audit" "$work/log/audit" \
	"$work/log/lambda" "$work/store" "$work/agent"
cp "$samples/cri-containerd.log" "$work/log/containers/$pod.log"
cp "$samples/k8s-audit.jsonl" "$work/log/kubernetes/audit/audit.log"
cp "$samples/auditd.log" "$work/log/audit/audit.log"
cp "$samples/lambda-text.log" "$work/log/lambda/orders-api.log"

# The embedded configurations.
cat > "$work/collector.yaml" <<YAML
collector:
  data_dir: $work/store
  listen: 127.0.0.1:$cport
rules: [$(pwd)/tests/data/rules/rules.yaml]
sinks:
  - type: file
    path: $work/alerts.jsonl
YAML
cat > "$work/agent.yaml" <<YAML
agent:
  id: demo-node
  data_dir: $work/agent
  http: { listen: 127.0.0.1:$aport }
  batch: { linger: 200ms }
inputs:
  - type: tail
    paths: ["$work/log/containers/*.log"]
    format: cri
    idle_flush: 500ms
  - type: tail
    paths: ["$work/log/kubernetes/audit/audit.log"]
    format: k8s_audit_v1
  - type: tail
    paths: ["$work/log/audit/audit.log"]
    format: auditd
    idle_flush: 500ms
  - type: tail
    paths: ["$work/log/lambda/*.log"]
    format: lambda_text
output:
  type: http
  url: http://127.0.0.1:$cport
YAML

echo "== configuration"
collector/trawl-collector --config "$work/collector.yaml" --check-config
agent/trawl-agent --config "$work/agent.yaml" --check-config

echo "== collector and agent on loopback"
collector/trawl-collector --config "$work/collector.yaml" 2>"$work/collector.log" &
pids="$pids $!"
wait_for 10 curl -fsS "http://127.0.0.1:$cport/healthz"
agent/trawl-agent --config "$work/agent.yaml" 2>"$work/agent.log" &
pids="$pids $!"
wait_for 10 curl -fsS "http://127.0.0.1:$aport/healthz"
echo "collector 127.0.0.1:$cport, agent 127.0.0.1:$aport: ready"

# 21 container + 35 k8s audit + 8 auditd + 33 Lambda records.
expected=97
if ! wait_for 30 sh -c "[ \"\$(query/trawl query --store '$work/store' --count)\" -ge $expected ]"; then
	echo "only $(query/trawl query --store "$work/store" --count) of $expected records arrived"
	exit 1
fi
echo "$(query/trawl query --store "$work/store" --count) records stored; $(query/trawl verify --store "$work/store")"
wait_for 10 test -s "$work/alerts.jsonl" || true
sleep 1

echo "== alerts (file sink)"
/usr/bin/python3 - "$work/alerts.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    print("%-8s %-34s %s" % (a["rule"]["severity"], a["rule"]["id"], a["output"][:110]))
PY

echo "== trawl query over the store (records by source)"
query/trawl query --store "$work/store" -o json | /usr/bin/python3 -c '
import collections, json, sys
c = collections.Counter()
for line in sys.stdin:
    r = json.loads(line)
    c[r["source"]["kind"] + "/" + r["source"]["format"]] += 1
for k, n in sorted(c.items()):
    print("%5d  %s" % (n, k))'
echo "== one stored record"
query/trawl query --store "$work/store" -o json | grep '"k8s_audit"' | head -n 1

echo "== stopping"
for pid in $pids; do kill -TERM "$pid"; done
for pid in $pids; do wait "$pid"; done
pids=""
echo "done"
