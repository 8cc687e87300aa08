#!/usr/bin/env bash
# Installs the Debian packages myna-oidc needs (as root; run with sudo otherwise).
#   run   libpcsclite-dev: headers to build the PC/SC addon (smartcard) during `npm ci`;
#         zenity: the helper's PIN window in `npm start` (the PIN is never typed into the page)
#   test  the same, plus what the tests drive for real:
#         pcscd, vsmartcard-vpcd           the virtual card behind a real PC/SC stack
#         chromium, firefox-esr,           the three browser engines of the end-to-end tests
#         webkit2gtk-driver, xvfb          (WebKitGTK through WebKitWebDriver under Xvfb)
#         zenity, xdotool                  the helper's native PIN dialog, typed into by the tests
#         x11-utils                        xev: when the PIN window appears (npm run bench)
#         fonts-noto-cjk                   Japanese glyphs in screenshots
#         apache2, libapache2-mod-auth-openidc, python3-authlib, python3-requests
#                                          independent relying-party software for interop tests
#         openssl, libnss3-tools           test CAs, OCSP responder, Firefox's certificate store
#         systemd                          systemd-analyze verifies the helper's user unit
set -euo pipefail
case "${1:-}" in
  run) packages=(libpcsclite-dev zenity) ;;
  test)
    packages=(
      libpcsclite-dev pcscd vsmartcard-vpcd
      chromium firefox-esr webkit2gtk-driver xvfb zenity xdotool x11-utils fonts-noto-cjk
      apache2 libapache2-mod-auth-openidc python3-authlib python3-requests
      openssl libnss3-tools systemd
    )
    ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y "${packages[@]}"
