# shellcheck shell=bash
# Sourced by ./dmh: building DMH and starting/stopping its services (settings in scripts/services.conf).

build_dotnet() {
  say "building Dmh.sln ($CONFIGURATION)"
  dotnet build "$ROOT/Dmh.sln" -c "$CONFIGURATION" -nologo -v q -clp:ErrorsOnly >"$LOGS/build.log" 2>&1 \
    || { grep -E 'error' "$LOGS/build.log" | sort -u | head -30 >&2; die "dotnet build failed (log: $LOGS/build.log)"; }
}

frontend_stamp() { (cd "$ROOT" && git ls-files -s "$@" 2>/dev/null; git -C "$ROOT" diff -- "$@" 2>/dev/null) | sha1sum | cut -c1-16; }

node_modules() { # node_modules DIR: npm ci when its package-lock.json changed since the last install
  local dir="$ROOT/$1" stamp
  stamp=$(cat "$dir/package.json" "$dir/package-lock.json" 2>/dev/null | sha1sum | cut -c1-16)
  if [ -d "$dir/node_modules" ] && [ "$(cat "$STATE/$1.modules" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  say "installing $1/'s npm packages"
  (cd "$dir" && export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 && \
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi) >"$LOGS/$1-npm.log" 2>&1 \
    || { tail -30 "$LOGS/$1-npm.log" >&2; die "npm could not install $1/'s packages (log: $LOGS/$1-npm.log)"; }
  echo "$stamp" > "$STATE/$1.modules"
}

build_frontend() { # build_frontend DIR: npm run build when its sources changed
  local dir="$ROOT/$1"
  [ -f "$dir/package.json" ] || return 0
  grep -q '"build"' "$dir/package.json" || return 0
  node_modules "$1"
  local stamp; stamp=$(frontend_stamp "$1" packages) # packages/: local packages both apps import
  if [ -f "$STATE/$1.stamp" ] && [ "$(cat "$STATE/$1.stamp")" = "$stamp" ]; then
    return 0
  fi
  say "building $1/"
  (cd "$dir" && npm run build) >"$LOGS/$1-build.log" 2>&1 \
    || { tail -30 "$LOGS/$1-build.log" >&2; die "building $1/ failed (log: $LOGS/$1-build.log)"; }
  echo "$stamp" > "$STATE/$1.stamp"
}

service_dir() { echo "$ROOT/$1/bin/$CONFIGURATION/net10.0"; }

service_settings() { # service_settings SECTION NAME=VALUE...: [SECTION] of scripts/services.conf, {NAME} filled in
  local section=$1 file="$ROOT/scripts/services.conf"; shift
  local -A values=()
  local pair line current="" name
  for pair in "$@"; do values[${pair%%=*}]=${pair#*=}; done
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      '' | '#'*) continue ;;
      '['*']') current=${line:1:${#line}-2}; continue ;;
    esac
    [ "$current" = "$section" ] || continue
    while [[ $line =~ \{([A-Za-z0-9]+)\} ]]; do
      name=${BASH_REMATCH[1]}
      [ -n "${values[$name]+set}" ] || die "scripts/services.conf [$section]: nothing fills {$name}"
      line=${line//"{$name}"/"${values[$name]}"}
    done
    printf '%s\n' "$line"
  done < "$file"
}

service_value() { # service_value SECTION NAME: a fixed value of scripts/services.conf
  awk -F= -v section="[$1]" -v name="$2" '/^\[/ { inside = ($0 == section) } inside && $1 == name { print substr($0, length(name) + 2); exit }' \
    "$ROOT/scripts/services.conf"
}

start_service() { # start_service NAME PROJECT PORT [extra env...]
  local name=$1 project=$2 port=$3; shift 3
  local redis_var; redis_var="DMH_REDIS_$(echo "$name" | tr '[:lower:]' '[:upper:]')"
  [ -n "${!redis_var:-}" ] && set -- "Redis__Configuration=${!redis_var}" "$@"
  alive "$name" && return 0
  local dir; dir=$(service_dir "$project")
  [ -f "$dir/$project.dll" ] || die "$project is not built"
  # Production unless the extra env says otherwise (env applies assignments in order).
  (cd "$dir" && exec env DOTNET_ENVIRONMENT=Production "$@" Urls="http://127.0.0.1:$port" \
      setsid nohup dotnet "$project.dll" >"$LOGS/$name.log" 2>&1 & echo $! > "$RUN/$name.pid")
}

# shellcheck disable=SC2154 # WechatPay__ApiV3Key: exported by load_env from .dmh/env
fill_values() { # fill_values INGRESS_URL: the {name}=value pairs of scripts/services.conf, one per line
  local merchant="$KEYS/merchant"
  printf '%s\n' "sim=http://127.0.0.1:$SIM_PORT" "ingress=$1" "simKeys=$KEYS/simulator" "merchantKeys=$merchant" \
    "merchantSerialNo=$(cat "$merchant/serial_no")" "apiV3Key=$WechatPay__ApiV3Key" "appSecret=$(secret wechat-app-secret 24)" \
    "smsSecretKey=$(secret tencent-sms-secret-key 24)"
}

start_services() {
  load_env
  merchant_keys
  local sim="http://127.0.0.1:$SIM_PORT" text fill
  text=$(fill_values "http://127.0.0.1:$INGRESS_PORT") || exit 1
  mapfile -t fill <<<"$text"
  local simulator wechat ingress settlement syncer
  text=$(service_settings wechatsim "${fill[@]}") || exit 1
  mapfile -t simulator <<<"$text"
  start_service wechatsim Dmh.WechatSim "$SIM_PORT" "${simulator[@]}"
  wait_for 60 "WeChat simulator" curl -fsS "$sim/healthz"
  alive wechatsim || die "the WeChat simulator exited (log: $LOGS/wechatsim.log)"
  # The simulator's access tokens and jsapi tickets live only as long as it runs (WeChat's live for
  # 7200 s): drop those Ingress cached from an earlier simulator, or its wx.config signatures fail.
  REDISCLI_AUTH=$(secret redis-admin-password) redis-cli --user dmh-admin -p "$REDIS_PORT" --scan --pattern 'wechat:credential:*' \
    | xargs -r env REDISCLI_AUTH="$(secret redis-admin-password)" redis-cli --user dmh-admin -p "$REDIS_PORT" DEL >/dev/null
  text=$(service_settings wechatpay "${fill[@]}" "simPublicKeyId=$(cat "$KEYS/simulator/wechatpay_public_key_id")") || exit 1
  mapfile -t wechat <<<"$text"
  text=$(service_settings ingress "${fill[@]}" "root=$ROOT" "data=$DATA" "managementPort=$MANAGEMENT_PORT") || exit 1
  mapfile -t ingress <<<"$text"
  start_service ingress Dmh.Ingress "$INGRESS_PORT" "${ingress[@]}" "${wechat[@]}"
  # Ingress applies the migrations; the workers start once it is ready.
  wait_ready ingress "$INGRESS_PORT"
  text=$(service_settings settlement) || exit 1
  mapfile -t settlement <<<"$text"
  start_service settlement Dmh.Settlement "$SETTLEMENT_PORT" "${wechat[@]}" "${settlement[@]}"
  local target_enc
  target_enc=$(secret target-password | Security__DataKey="$(secret_b64 data-key)" \
    dotnet "$(service_dir Dmh.Syncer)/Dmh.Syncer.dll" encrypt-secret) || die "could not encrypt the customer database password"
  if command -v mariadb >/dev/null 2>&1; then
    MYSQL_PWD=$(secret target-password) mariadb -h127.0.0.1 -P"$TARGET_PORT" -udmh customer < "$ROOT/docs/sync/mysql.sql" \
      || say "warning: could not create the customer tables (docs/sync/mysql.sql)"
  fi
  text=$(service_settings syncer targetType=mysql targetHost=127.0.0.1 "targetPort=$TARGET_PORT" targetUser=dmh \
    "targetPassword=$target_enc" targetDatabase=customer) || exit 1
  mapfile -t syncer <<<"$text"
  start_service syncer Dmh.Syncer "$SYNCER_PORT" "${syncer[@]}"
  wait_ready settlement "$SETTLEMENT_PORT"
  wait_ready syncer "$SYNCER_PORT"
}

# ./dmh test admin-e2e: a second Ingress on the same databases with campaign approval on
# (Campaigns:RequireApproval), for admin/'s approval project (admin/playwright.config.js). It leaves the
# reward notices to the first one.
start_approval_ingress() {
  local url="http://127.0.0.1:$APPROVAL_PORT" text fill ingress wechat
  text=$(fill_values "$url") || exit 1
  mapfile -t fill <<<"$text"
  text=$(service_settings ingress "${fill[@]}" "root=$ROOT" "data=$DATA" "managementPort=$APPROVAL_MANAGEMENT_PORT") || exit 1
  mapfile -t ingress <<<"$text"
  text=$(service_settings wechatpay "${fill[@]}" "simPublicKeyId=$(cat "$KEYS/simulator/wechatpay_public_key_id")") || exit 1
  mapfile -t wechat <<<"$text"
  start_service ingress_approval Dmh.Ingress "$APPROVAL_PORT" "Redis__Configuration=$DMH_REDIS_INGRESS" "${ingress[@]}" "${wechat[@]}" \
    Campaigns__RequireApproval=true Notices__Enabled=false
  wait_ready ingress_approval "$APPROVAL_PORT"
}

wait_ready() { # wait_ready NAME PORT: /readyz answers 200, or the process died (then show its log)
  local name=$1 port=$2 i=0
  until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    if ! alive "$name"; then
      tail -15 "$LOGS/$name.log" >&2
      die "$name exited during start-up (log: $LOGS/$name.log)"
    fi
    i=$((i + 1))
    [ "$i" -gt 600 ] && die "$name was not ready in 120s (log: $LOGS/$name.log)"
    sleep 0.2
  done
}

stop_services() {
  local f
  # settlement2, settlement3, …: extra instances ./dmh perf --instances started.
  for f in "$RUN"/settlement[0-9]*.pid; do [ -e "$f" ] && stop_pid "$(basename "$f" .pid)"; done
  for s in syncer settlement ingress_approval ingress wechatsim; do stop_pid "$s"; done
}

stop_all() {
  stop_services
  stop_servers
}

print_urls() {
  cat >&2 <<TXT

  DMH is up.
    Admin console    http://127.0.0.1:$INGRESS_PORT/admin/   (user admin, password in .dmh/keys/admin-password)
    H5 landing page  http://127.0.0.1:$INGRESS_PORT/h5/#/pages/campaign/index?id=<campaign>
    API              http://127.0.0.1:$INGRESS_PORT/api/v1/
    Monitoring       http://127.0.0.1:$MANAGEMENT_PORT/metrics  /openapi/v1.json  /healthz  /readyz
    Settlement       http://127.0.0.1:$SETTLEMENT_PORT/metrics  /healthz  /readyz
    Syncer           http://127.0.0.1:$SYNCER_PORT/metrics  /healthz  /readyz
    WeChat simulator http://127.0.0.1:$SIM_PORT/
    Logs             $LOGS/

  Local use only: Ingress runs as Development. SMS codes go to the simulator's Tencent Cloud SMS
  stand-in, not to phones: read them at http://127.0.0.1:$SIM_PORT/sim/sms/<phone>. Never deploy like this.
TXT
}

cmd_up() {
  local detach=0
  [ "${1:-}" = "--detach" ] && detach=1
  prepare
  start_servers
  build_dotnet
  build_frontend admin
  build_frontend h5
  start_services
  print_urls
  if [ "$detach" = 1 ]; then
    say "running in the background; ./dmh down stops it"
    return 0
  fi
  trap 'say "stopping"; stop_all; exit 0' INT TERM
  say "Ctrl-C stops everything"
  while true; do
    for s in ingress settlement syncer wechatsim; do
      alive "$s" || { say "$s exited (log: $LOGS/$s.log)"; tail -5 "$LOGS/$s.log" >&2; stop_all; exit 1; }
    done
    sleep 2
  done
}

cmd_status() {
  for s in redis mariadb-dmh mariadb-target wechatsim ingress settlement syncer; do
    if alive "$s"; then echo "$s: running (pid $(cat "$RUN/$s.pid"))"; else echo "$s: stopped"; fi
  done
  if as_pg "$(pg_bin)/pg_ctl" -D "$DATA/postgres" status >/dev/null 2>&1; then echo "postgres: running"; else echo "postgres: stopped"; fi
}
