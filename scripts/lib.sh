# shellcheck shell=bash disable=SC2034 # its variables are read by the scripts that source it
# Sourced by ./dmh: paths, ports and the helpers every other script uses.
# Everything ./dmh starts runs on 127.0.0.1 with data under .dmh/ (git-ignored).

STATE="$ROOT/.dmh"
DATA="$STATE/data"
LOGS="$STATE/logs"
KEYS="$STATE/keys"
RUN="$STATE/run"

REDIS_PORT=${DMH_REDIS_PORT:-6390}
MYSQL_PORT=${DMH_MYSQL_PORT:-3307}
TARGET_PORT=${DMH_TARGET_PORT:-3308}
PG_PORT=${DMH_PG_PORT:-5433}
INGRESS_PORT=${DMH_INGRESS_PORT:-5080}
SETTLEMENT_PORT=${DMH_SETTLEMENT_PORT:-5081}
SYNCER_PORT=${DMH_SYNCER_PORT:-5082}
SIM_PORT=${DMH_SIM_PORT:-5090}
# Ingress's /metrics and /openapi answer only here, not on the public port.
MANAGEMENT_PORT=${DMH_MANAGEMENT_PORT:-$((INGRESS_PORT + 5))}
# ./dmh test admin-e2e: a second Ingress with campaign approval on, and its management port.
APPROVAL_PORT=${DMH_APPROVAL_PORT:-$((INGRESS_PORT + 7))}
APPROVAL_MANAGEMENT_PORT=${DMH_APPROVAL_MANAGEMENT_PORT:-$((INGRESS_PORT + 8))}
CONFIGURATION=${DMH_CONFIGURATION:-Release}
# ./dmh perf runs the services against a database and Redis key prefix of their own (perf/README.md).
PERF_DATABASE=dmh_perf
PERF_KEY_PREFIX=perf:

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
ME=$(id -un)

say() { printf '\033[1;34m[dmh]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[dmh]\033[0m %s\n' "$*" >&2; exit 1; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  local i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -gt $((seconds * 5)) ] && die "$what did not come up in ${seconds}s (logs in $LOGS)"
    sleep 0.2
  done
}

# running PID: the process exists and is not a zombie (killed, not reaped yet: kill -0 still succeeds for
# it, and nothing may reap it soon inside a container, so a killed server looked alive and was not started again).
running() { kill -0 "$1" 2>/dev/null && ! grep -qE '\) [ZX] ' "/proc/$1/stat" 2>/dev/null; }

alive() { [ -s "$RUN/$1.pid" ] && running "$(cat "$RUN/$1.pid")"; }

stop_pid() { # stop_pid NAME: TERM, wait, then KILL
  local file="$RUN/$1.pid" pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if running "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    # A killed server can take seconds to exit (and free its port and data files) on a loaded machine.
    for _ in $(seq 1 300); do running "$pid" || break; sleep 0.2; done
  fi
  rm -f "$file"
}

load_env() { # values hold spaces and semicolons: export line by line instead of sourcing
  local line
  while IFS= read -r line; do
    [ -n "$line" ] && export "${line%%=*}=${line#*=}"
  done < "$STATE/env"
  # ./dmh perf: the services it starts (and the runner) use the perf database instead of dmh.
  if [ -n "${DMH_DATABASE:-}" ]; then
    export Database__ConnectionString="${Database__ConnectionString%;Database=*};Database=$DMH_DATABASE"
  fi
}

prepare() {
  mkdir -p "$DATA" "$LOGS" "$KEYS" "$RUN"
  chmod 755 "$STATE" "$DATA" "$RUN"
  check_toolchains
  install_packages
  write_env
}
