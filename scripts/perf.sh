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
  dotnet "$ROOT/perf/Dmh.Perf/bin/$CONFIGURATION/net10.0/Dmh.Perf.dll" "$1" --base-url "http://127.0.0.1:$INGRESS_PORT" "${@:2}"
}
