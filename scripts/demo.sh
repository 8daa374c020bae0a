#!/usr/bin/env bash
# The lab demo (README's first command runs setup.sh, then this): the field report reproduced with the
# real Heartbeat 3.0.6 (keepalive 1 / deadtime 5) in network namespaces. Two labs side by side, one client
# each with the REAL default neighbour timers: one client drops gratuitous ARP (garp-filtered), one is a
# stock Linux client (linux-default). server1's link goes down; each client's own `ping -D -O -i 0.005`
# measures its outage; a table compares them; everything is torn down. About 2 minutes.
# Extra arguments go to `hadiag lab demo` (e.g. --manager keepalived, --json).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root (it creates network namespaces): sudo npm run demo" >&2
  exit 2
fi
exec node bin/hadiag.js lab demo --manager heartbeat --timers classic "$@"
