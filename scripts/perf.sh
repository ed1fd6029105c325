# shellcheck shell=bash
# Sourced by ./dmh: ./dmh perf runs perf/Dmh.Perf against the local system (perf/README.md).

cmd_perf() {
  [ $# -ge 1 ] || die "usage: ./dmh perf <scenario> [options]  (see perf/README.md)"
  prepare
  build_dotnet
  # `overhead` loads a server the runner hosts itself: the system need not run (and would only add noise).
  if [ "$1" != "overhead" ]; then
    start_servers
    # A load test is one client IP: lift the per-IP limits for services this run starts
    # (services already running keep theirs; ./dmh down first to measure with these).
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
