#!/usr/bin/env bash
# Idempotent set-up for hadiag on Debian 12 (run as root): system packages, npm deps, build.
# Daemons (heartbeat, keepalived, ucarp, corosync, pacemaker) are installed with a policy-rc.d that forbids service starts,
# so nothing runs in the root namespace; the lab starts them only inside its own namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(libpcap-dev g++ make python3 iproute2 iputils-ping iputils-arping tcpdump nftables bridge-utils
      heartbeat keepalived ucarp procps util-linux psmisc
      pacemaker pacemaker-cli-utils corosync resource-agents)
# resource-agents ships IPaddr2 (and send_arp) and /usr/sbin/ocf-tester; pacemaker-cli-utils the CLI tools
# (crm_mon, cibadmin, crm_resource, crm_attribute) that --no-install-recommends would leave out.

need=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup: need root to install: ${need[*]}" >&2; exit 2; fi
  echo "setup: installing ${need[*]}" >&2
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  if [ $had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; fi
  trap '[ $had_policy = 0 ] && rm -f "$policy"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts nothing thanks to policy-rc.d; make sure no unit is enabled for boot either.
  for s in heartbeat keepalived corosync pacemaker; do systemctl disable "$s" >/dev/null 2>&1 || true; done
fi

if [ ! -f node_modules/cap/build/Release/cap.node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# cap aborts a process whose captured interface goes down; patches/cap-0.2.1-poll-error.patch makes it report it
# (postinstall applies it too; this checks it by sha256 and rebuilds cap when the addon lacks it)
node scripts/patch-cap.mjs
npm run --silent build
