#!/usr/bin/env bash
# The lab demo (README's first command runs setup.sh, then this): the field report reproduced in network
# namespaces with classic timers (keepalive 1 / deadtime 5) and the REAL default client neighbour timers.
# One lab per (manager, client profile), built in parallel: the real Heartbeat 3.0.6 and hadiag run-node, each
# with a client that drops gratuitous ARP (garp-filtered) and a stock Linux client (linux-default).
# server1's link goes down; each client's own `ping -D -O -i 0.005` measures its outage; a table compares
# them; everything is torn down. About 1–2 minutes.
# Extra arguments go to `hadiag lab demo` (e.g. --manager keepalived --manager hadiag, --json).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root (it creates network namespaces): sudo npm run demo" >&2
  exit 2
fi
exec node bin/hadiag.js lab demo --timers classic "$@"
