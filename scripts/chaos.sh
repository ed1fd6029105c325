# shellcheck shell=bash
# Sourced by ./dmh: ./dmh chaos runs perf/Dmh.Chaos, the fault-injection suite (docs/RELIABILITY.md).

# Compressed clocks, so a fault's recovery takes seconds rather than the production defaults' minutes:
# stale entries claimed after 2 s, the sync outbox swept every second, retries and breakers short,
# transfer bills due for reconciliation (a minute after review, scripts/services.conf) looked at every 2 s.
chaos_settings() {
  export RateLimits__PublicPermitLimit=10000000 RateLimits__PayPerIpPermitLimit=10000000 \
    RateLimits__CallbackPerIpPermitLimit=10000000 RateLimits__WechatAuthPerIpPermitLimit=10000000 \
    RateLimits__PayPerOrderPermitLimit=10000000 RateLimits__CallbackPerOrderPermitLimit=10000000 \
    RateLimits__SmsGlobalPermitLimit=10000000 RateLimits__SmsPerPrefixPermitLimit=10000000 \
    Settlement__Consumer__ClaimIdle=00:00:02 Settlement__Consumer__ClaimInterval=00:00:01 \
    Syncer__Consumer__ClaimIdle=00:00:02 Syncer__Consumer__ClaimInterval=00:00:01 \
    ExternalSync__RetryDelay=00:00:01 ExternalSync__MaxRetryDelay=00:00:05 \
    ExternalSync__Resilience__BreakerBreakDuration=00:00:01 \
    ExternalSync__Sweeper__Interval=00:00:01 ExternalSync__Sweeper__UnpublishedAfter=00:00:03 \
    ExternalSync__Sweeper__UnsyncedAfter=00:00:10 Withdrawals__ReconcileInterval=00:00:02
}

# run_chaos [runner options and scenarios]: the system started with chaos settings, the runner, then
# the services stopped again (they ran with compressed clocks).
run_chaos() {
  start_servers
  stop_services
  chaos_settings
  start_services
  load_env
  export DMH_ADMIN_USER=admin DMH_ADMIN_PASSWORD; DMH_ADMIN_PASSWORD=$(secret admin-password 12)
  export DMH_SIM_KEY_DIR="$KEYS/simulator" DMH_WECHAT_APPID DMH_WECHAT_MCHID
  DMH_WECHAT_APPID=$(service_value wechatsim Simulator__AppId)
  DMH_WECHAT_MCHID=$(service_value wechatsim Simulator__MchId)
  export DMH_SIM_URL="http://127.0.0.1:$SIM_PORT"
  export DMH_RUN_DIR="$RUN" DMH_LOG_DIR="$LOGS" DMH_REDIS_PORT="$REDIS_PORT" DMH_MYSQL_PORT="$MYSQL_PORT" DMH_TARGET_PORT="$TARGET_PORT"
  local rc=0
  dotnet "$ROOT/perf/Dmh.Chaos/bin/$CONFIGURATION/net10.0/Dmh.Chaos.dll" --base-url "http://127.0.0.1:$INGRESS_PORT" "$@" || rc=$?
  stop_services
  return "$rc"
}

cmd_chaos() {
  prepare
  build_dotnet
  run_chaos "$@"
}
