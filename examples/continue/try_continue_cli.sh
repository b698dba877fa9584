#!/usr/bin/env bash
# Ask Spark Agents a question through Continue's own CLI (`cn -p`, non-interactive), configured by the
# config.yaml that `spark-agents mcp list --write` generates: this home's service address and its token.
# Needs node >= 20 (npx fetches @continuedev/cli once).
#   examples/continue/try_continue_cli.sh "Write a Python function that reverses a string."
set -euo pipefail
spark-agents service up >/dev/null   # the home's one service (any spark-agents command would start it)
dir=$(mktemp -d)
spark-agents mcp list --write "$dir" >/dev/null
npx -y @continuedev/cli -p "${1:-Write a Python function that reverses a string.}" --config "$dir/continue/config.yaml"
