#!/usr/bin/env bash
# Makes sure the Prometheus server and promtool (Debian package `prometheus`) are installed: the
# metrics test scrapes a real run with them. Used by .ci/run and, when they are missing, by the test
# itself, so `npm test` on a fresh Debian machine needs nothing else. Installs with apt-get as root
# (or passwordless sudo); exits non-zero with the manual command when that is not possible.
set -euo pipefail
have() { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; }
have && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-prometheus: prometheus/promtool are missing and apt-get is not available; install Prometheus (prometheus and promtool on PATH)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "ensure-prometheus: prometheus/promtool are missing; install them with: sudo apt-get install -y prometheus" >&2
    exit 1
  fi
fi
echo "ensure-prometheus: installing the Debian package prometheus (for tests/metrics-prometheus.test.ts)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
have
