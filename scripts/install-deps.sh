#!/usr/bin/env bash
# Installs everything OpenUCM needs to build, run and test, from Debian packages.
# Usage: scripts/install-deps.sh [--test]   (--test adds the test peers and fuzzing toolchain)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
build_pkgs=(build-essential cmake pkg-config libevent-dev libssl-dev libsqlite3-dev
  libjansson-dev libxml2-dev zlib1g-dev libcurl4-openssl-dev openssl ca-certificates)
test_pkgs=(libcmocka-dev clang curl sqlite3 procps iproute2 python3 sip-tester baresip-core linphone-cli
  tftp-hpa)
pkgs=("${build_pkgs[@]}")
[ "${1:-}" = "--test" ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
