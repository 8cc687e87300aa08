#!/usr/bin/env bash
# Installs the Debian packages myna-oidc needs (as root; run with sudo otherwise).
#   run   libpcsclite-dev: headers to build the PC/SC addon (smartcard) during `npm ci`
#   test  the same, plus pcscd and vsmartcard-vpcd (the virtual card behind a real PC/SC stack)
#         and chromium (the end-to-end browser test)
set -euo pipefail
case "${1:-}" in
  run) packages=(libpcsclite-dev) ;;
  test) packages=(libpcsclite-dev pcscd vsmartcard-vpcd chromium) ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y "${packages[@]}"
