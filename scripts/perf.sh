# shellcheck shell=bash
# Sourced by ./dmh: ./dmh perf runs perf/Dmh.Perf against the local system (perf/README.md).

# A clean perf database and key prefix for this invocation: the services ./dmh perf starts use them
# (Ingress migrates the database as it would dmh), so runs never grow the dmh database and every
# invocation starts from the same empty state.
reset_perf_data() {
  say "resetting the perf database ($PERF_DATABASE) and Redis keys ($PERF_KEY_PREFIX*)"
  mariadb --socket="$RUN/mariadb-dmh.sock" -u"$ME" \
    -e "DROP DATABASE IF EXISTS \`$PERF_DATABASE\`; CREATE DATABASE \`$PERF_DATABASE\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" \
    || die "could not reset the perf database"
  redis_cli --scan --pattern "$PERF_KEY_PREFIX*" | xargs -r -n 500 env REDISCLI_AUTH="$(secret redis-admin-password)" \
    redis-cli --user dmh-admin -p "$REDIS_PORT" UNLINK >/dev/null
}

cmd_perf() {
  [ $# -ge 1 ] || die "usage: ./dmh perf <scenario>[,<scenario>…] [options]  (see perf/README.md)"
  local instances=1 arg previous=""
  for arg in "$@"; do
    [ "$previous" = "--instances" ] && instances=$arg
    previous=$arg
  done
  [[ $instances =~ ^[1-9][0-9]?$ ]] || die "--instances takes a number from 1 to 99"
  prepare
  build_dotnet
  # `overhead` loads a server the runner hosts itself: the system need not run (and would only add noise).
  # `baseline` needs only MariaDB. Several scenarios run in one invocation (orders,baseline).
  local scenarios=",$1," needs_services=0
  [[ $scenarios =~ ,(orders|settlement|sync|track|mixed|healthz), ]] && needs_services=1
  if [ "$1" != "overhead" ]; then
    start_servers
    # Services already running use the dmh database (or an earlier run's perf data): restart them
    # against this invocation's clean perf database, and stop them when the run ends.
    stop_services
    reset_perf_data
    export DMH_DATABASE=$PERF_DATABASE Redis__KeyPrefix=$PERF_KEY_PREFIX
    trap 'stop_services' EXIT
  fi
  if [ "$needs_services" = 1 ]; then
    # A load test is one client IP: lift the per-IP limits for the services this run starts.
    export RateLimits__PublicPermitLimit=10000000 RateLimits__PayPerIpPermitLimit=10000000 \
      RateLimits__CallbackPerIpPermitLimit=10000000 RateLimits__WechatAuthPerIpPermitLimit=10000000 RateLimits__TrackPerIpPermitLimit=10000000 \
      RateLimits__PayPerOrderPermitLimit=10000000 RateLimits__CallbackPerOrderPermitLimit=10000000 \
      RateLimits__SmsGlobalPermitLimit=10000000 RateLimits__SmsPerPrefixPermitLimit=10000000
    start_services
    # --instances N (or another build of Settlement to compare with): the run's own Settlement processes.
    if [ "$instances" != 1 ] || [ -n "${DMH_PERF_SETTLEMENT_BUILD:-}" ]; then
      perf_settlement_instances "$instances"
    fi
  fi
  load_env
  export DMH_ADMIN_USER=admin DMH_ADMIN_PASSWORD; DMH_ADMIN_PASSWORD=$(secret admin-password 12)
  # settlement/sync/mixed post notifies as WeChat does: signed with the simulator's key.
  export DMH_SIM_KEY_DIR="$KEYS/simulator" DMH_WECHAT_APPID DMH_WECHAT_MCHID
  DMH_WECHAT_APPID=$(service_value wechatsim Simulator__AppId)
  DMH_WECHAT_MCHID=$(service_value wechatsim Simulator__MchId)
  # The runner reports CPU per request of each process it finds a pid file for.
  export DMH_RUN_DIR="$RUN"
  # The scenario first, then the default target, then the caller's options (a later --base-url wins).
  local rc=0
  dotnet "$ROOT/perf/Dmh.Perf/bin/$CONFIGURATION/net10.0/Dmh.Perf.dll" "$1" --base-url "http://127.0.0.1:$INGRESS_PORT" "${@:2}" || rc=$?
  if [ -n "${PERF_SETTLEMENT_ENV:-}" ]; then
    perf_settlement_restore
  fi
  return "$rc"
}

# perf_settlement_instances N: replaces the running Settlement with N processes of the same settings
# (settlement, settlement2, …; the extra ones on ephemeral ports), from DMH_PERF_SETTLEMENT_BUILD (the
# output directory of another build, e.g. main's, to measure side by side) or this worktree's build.
perf_settlement_instances() {
  local n=$1 dir=${DMH_PERF_SETTLEMENT_BUILD:-$(service_dir Dmh.Settlement)} i name urls port
  [ -f "$dir/Dmh.Settlement.dll" ] || die "no Dmh.Settlement.dll in $dir"
  alive settlement || die "settlement is not running"
  PERF_SETTLEMENT_ENV="$STATE/settlement.env"
  tr '\0' '\n' <"/proc/$(cat "$RUN/settlement.pid")/environ" | grep -v '^Urls=' >"$PERF_SETTLEMENT_ENV"
  local -a settings
  mapfile -t settings <"$PERF_SETTLEMENT_ENV"
  stop_pid settlement
  say "starting $n Settlement process(es) from $dir"
  for ((i = 1; i <= n; i++)); do
    name=settlement urls="http://127.0.0.1:$SETTLEMENT_PORT"
    [ "$i" -gt 1 ] && name="settlement$i" urls="http://127.0.0.1:0"
    (cd "$dir" && exec env -i "${settings[@]}" Urls="$urls" setsid nohup dotnet Dmh.Settlement.dll >"$LOGS/$name.log" 2>&1 & echo $! >"$RUN/$name.pid")
  done
  wait_ready settlement "$SETTLEMENT_PORT"
  for ((i = 2; i <= n; i++)); do
    port=""
    for _ in $(seq 1 600); do
      port=$(grep -oE 'Now listening on: http://127\.0\.0\.1:[0-9]+' "$LOGS/settlement$i.log" 2>/dev/null | head -1 | grep -oE '[0-9]+$') && break
      alive "settlement$i" || break
      sleep 0.2
    done
    [ -n "$port" ] || die "settlement$i did not start (log: $LOGS/settlement$i.log)"
    wait_ready "settlement$i" "$port"
  done
}

# perf_settlement_restore: after the run, one Settlement of this worktree's build again, with the same settings.
perf_settlement_restore() {
  local f settings
  for f in "$RUN"/settlement*.pid; do
    [ -e "$f" ] && stop_pid "$(basename "$f" .pid)"
  done
  mapfile -t settings <"$PERF_SETTLEMENT_ENV"
  (cd "$(service_dir Dmh.Settlement)" && exec env -i "${settings[@]}" Urls="http://127.0.0.1:$SETTLEMENT_PORT" \
    setsid nohup dotnet Dmh.Settlement.dll >"$LOGS/settlement.log" 2>&1 & echo $! >"$RUN/settlement.pid")
  wait_ready settlement "$SETTLEMENT_PORT"
}
