#!/usr/bin/env bash
# Ask Spark Agents a question through Continue's own CLI (`cn -p`, non-interactive), configured by the
# config.yaml that `spark-agents mcp list` generates. Needs node >= 20 (npx fetches @continuedev/cli once).
#   examples/continue/try_continue_cli.sh "Write a Python function that reverses a string."
set -euo pipefail
PORT=${PORT:-8800}
spark-agents serve --port "$PORT" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.5; done
dir=$(mktemp -d)
spark-agents mcp list --api-base "http://127.0.0.1:$PORT/v1" --write "$dir" >/dev/null
npx -y @continuedev/cli -p "${1:-Write a Python function that reverses a string.}" --config "$dir/continue/config.yaml"
