# shellcheck shell=bash
# Sourced by ./dmh: the toolchains it needs and the Debian packages it installs when missing.

# nginx, prometheus (promtool) and systemd (systemd-analyze): the deployment tests (tests/Dmh.IntegrationTests/Deployment).
APT_PACKAGES="redis-server mariadb-server postgresql chromium fonts-noto-cjk curl ca-certificates openssl shellcheck sudo nginx prometheus systemd"

check_toolchains() {
  command -v dotnet >/dev/null 2>&1 || die ".NET SDK 10 is required: install dotnet-sdk-10.0 (https://dot.net) and run again."
  local sdk; sdk=$(dotnet --version 2>/dev/null || true)
  [ "${sdk%%.*}" -ge 10 ] 2>/dev/null || die ".NET SDK 10 or newer is required (found '${sdk:-none}')."
  command -v node >/dev/null 2>&1 || die "Node.js 20 or newer is required (apt-get install nodejs, or nodesource)."
  local nv; nv=$(node --version | sed 's/^v//')
  [ "${nv%%.*}" -ge 20 ] 2>/dev/null || die "Node.js 20 or newer is required (found v$nv)."
  command -v npm >/dev/null 2>&1 || die "npm is required alongside Node.js."
}

missing_packages() {
  local missing=""
  command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
  command -v mariadbd >/dev/null 2>&1 || missing="$missing mariadb-server"
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
  [ -x /usr/bin/chromium ] || missing="$missing chromium"
  fc-list 2>/dev/null | grep -i 'Noto Sans CJK' >/dev/null || missing="$missing fonts-noto-cjk"
  command -v curl >/dev/null 2>&1 || missing="$missing curl"
  command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
  command -v shellcheck >/dev/null 2>&1 || missing="$missing shellcheck"
  command -v sudo >/dev/null 2>&1 || missing="$missing sudo" # the as-user test suite gives its user sudo
  [ -x /usr/sbin/nginx ] || missing="$missing nginx"
  command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
  command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
  echo "$missing"
}

install_packages() {
  local missing; missing=$(missing_packages)
  [ -z "$missing" ] && return 0
  say "installing Debian packages:$missing"
  # Keep apt from starting the system's own Redis/MariaDB/PostgreSQL on the default ports.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    created_policy=1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $APT_PACKAGES >"$LOGS/apt.log" 2>&1 \
    || { tail -20 "$LOGS/apt.log" >&2; die "apt-get install failed (log: $LOGS/apt.log)"; }
  [ "$created_policy" = 1 ] && $SUDO rm -f "$policy"
  return 0
}
