#!/bin/sh
# The run command of the quick start: installs what is missing, builds, and
# runs trawl on the bundled sample logs with an embedded configuration,
# cleaning up after itself.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh
top=$(pwd)
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

samples=tests/data/formats
cport=$(free_port)
aport=$(free_port)

# The embedded configurations.
cat > "$work/collector.yaml" <<YAML
collector:
  data_dir: $work/store
  listen: 127.0.0.1:$cport
sinks:
  - type: file
    path: $work/alerts.jsonl
YAML
cat > "$work/agent.yaml" <<YAML
agent:
  id: demo-node
  data_dir: $work/agent
  http: { listen: 127.0.0.1:$aport }
inputs:
  - type: tail
    paths: ["$work/logs/*.log"]
    format: auto
output:
  type: http
  url: http://127.0.0.1:$cport
YAML
mkdir -p "$work/store" "$work/agent" "$work/logs"

echo "== configuration"
collector/trawl-collector --config "$work/collector.yaml" --check-config
agent/trawl-agent --config "$work/agent.yaml" --check-config

echo "== daemons on loopback"
collector/trawl-collector --config "$work/collector.yaml" 2>"$work/collector.log" &
pids="$pids $!"
agent/trawl-agent --config "$work/agent.yaml" 2>"$work/agent.log" &
pids="$pids $!"
for port in $cport $aport; do
	i=0
	until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "daemon on $port did not start"; exit 1; }
		sleep 0.05
	done
	printf '127.0.0.1:%s /healthz ok, /readyz %s\n' "$port" \
		"$(curl -s "http://127.0.0.1:$port/readyz")"
done

echo "== sample logs parsed into records (trawl parse --format auto)"
while IFS='	' read -r input expected format path target now options env; do
	case "$input" in '#'*|'') continue ;; esac
	[ "$options" = "-" ] || continue
	set -- --format auto
	[ "$path" = "-" ] || set -- "$@" --path "$path"
	[ "$target" = "-" ] || set -- "$@" --target "$target"
	[ "$now" = "-" ] || set -- "$@" --now "$now"
	if [ "$env" = "-" ]; then
		query/trawl parse "$@" "$samples/$input" > "$work/$input.jsonl" || true
	else
		# shellcheck disable=SC2086
		env $env query/trawl parse "$@" "$samples/$input" > "$work/$input.jsonl" || true
	fi
	printf '%-28s %4d records  %s\n' "$input" "$(wc -l < "$work/$input.jsonl")" \
		"$(/usr/bin/python3 -c 'import json,sys
kinds=sorted({json.loads(l)["source"]["kind"]+"/"+json.loads(l)["source"]["format"] for l in open(sys.argv[1])})
print(" ".join(kinds))' "$work/$input.jsonl")"
done < "$samples/manifest.tsv"

echo "== one record"
head -n 1 "$work/k8s-audit.jsonl.jsonl"

echo "== stopping"
for pid in $pids; do kill -TERM "$pid"; done
for pid in $pids; do wait "$pid"; done
pids=""
echo "done (the collector's store, detection and alerts arrive with the collector, agent and detection issues)"
