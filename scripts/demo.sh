#!/usr/bin/env bash
# The lab demo (placeholder until the lab lands): lint the field report's files and inspect a real capture.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "hadiag demo: nothing to show yet" >&2
