# shellcheck shell=bash
# Sourced by ./dmh: ./dmh test runs the suites and adds up their counts into one closing line.

PASSED=0
FAILED=0
SUMMARY=""

record() { # record SUITE PASSED FAILED SECONDS
  PASSED=$((PASSED + $2)); FAILED=$((FAILED + $3))
  SUMMARY="$SUMMARY$(printf '  %-24s %5s passed %5s failed %6ss' "$1" "$2" "$3" "$4")"$'\n'
}

run_dotnet_tests() {
  local results="$STATE/test-results/dotnet"
  rm -rf "$results"; mkdir -p "$results"
  local project
  for project in "$ROOT"/tests/*/*.csproj; do
    grep -q '<IsTestProject>true</IsTestProject>' "$project" || continue # e.g. tests/Dmh.TestSupport, a library
    local name start p f; name=$(basename "$project" .csproj); start=$SECONDS
    say "dotnet test $name"
    dotnet test "$project" -c "$CONFIGURATION" --no-build --nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
      --results-directory "$results" 2>&1 | tee "$LOGS/test-$name.log" | grep -E '^\s+(Failed|Passed|Skipped) |error|Total tests' || true
    local trx="$results/$name.trx"
    if [ -f "$trx" ]; then
      p=$(grep -o '<Counters [^>]*>' "$trx" | sed -E 's/.* passed="([0-9]+)".*/\1/')
      f=$(grep -o '<Counters [^>]*>' "$trx" | sed -E 's/.*[^a-zA-Z]failed="([0-9]+)".*/\1/')
      local notrun; notrun=$(grep -o '<Counters [^>]*>' "$trx" | sed -E 's/.* notExecuted="([0-9]+)".*/\1/')
      # A skipped test is a defect here (rule: start the server instead), so it counts as failed.
      f=$((f + notrun))
    else
      p=0; f=1
      say "$name produced no results (log: $LOGS/test-$name.log)"
    fi
    record "$name" "$p" "$f" $((SECONDS - start))
  done
}

run_node_suite() { # run_node_suite LABEL DIR SCRIPT: a vitest or playwright script, counted from its JSON report
  local label=$1 dir="$ROOT/$2" script=$3 start=$SECONDS
  [ -f "$dir/package.json" ] && grep -q "\"$script\"" "$dir/package.json" || return 0
  local out="$STATE/test-results/$label.json"
  rm -f "$out"; mkdir -p "$(dirname "$out")"
  say "npm run $script ($2)"
  local tool; tool=$(node -e 'console.log(require(process.argv[1]).scripts[process.argv[2]])' "$dir/package.json" "$script")
  (
    cd "$dir"
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    case "$tool" in
      *vitest*) npm run --silent "$script" -- --reporter=default --reporter=json --outputFile.json="$out" ;;
      *playwright*) PLAYWRIGHT_JSON_OUTPUT_NAME="$out" npm run --silent "$script" -- --reporter=list,json ;;
      *) npm run --silent "$script" ;;
    esac
  ) >"$LOGS/test-$label.log" 2>&1 || true
  local counts
  # shellcheck disable=SC2016 # JavaScript, not shell
  counts=$(node -e '
    const fs = require("fs"); const f = process.argv[1];
    if (!fs.existsSync(f)) { console.log("0 1"); process.exit(0); }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    if (r.numPassedTests !== undefined) {            // vitest; a suite that failed to load counts once
      const broken = (r.testResults || []).filter(t => t.status === "failed" && !(t.assertionResults || []).some(a => a.status === "failed")).length;
      console.log(`${r.numPassedTests} ${r.numFailedTests + (r.numPendingTests || 0) + (r.numTodoTests || 0) + broken}`);
    } else if (r.stats) {                             // playwright; skipped is a defect here, not a pass
      const s = r.stats; console.log(`${s.expected} ${s.unexpected + s.flaky + s.skipped + (r.errors?.length ? 1 : 0)}`);
    } else { console.log("0 1"); }' "$out")
  grep -E "✓|✗|×|passed|failed" "$LOGS/test-$label.log" | tail -5 >&2 || true
  [ "${counts#* }" != "0" ] && tail -40 "$LOGS/test-$label.log" >&2
  record "$label" "${counts% *}" "${counts#* }" $((SECONDS - start))
}

lint_step() { # lint_step NAME DIR COMMAND...: one pass, or one fail with the tool's findings
  local name=$1 dir=$2 start=$SECONDS; shift 2
  say "lint: $name"
  if (cd "$dir" && "$@") >"$LOGS/lint-$name.log" 2>&1; then
    record "lint $name" 1 0 $((SECONDS - start))
  else
    tail -40 "$LOGS/lint-$name.log" >&2
    record "lint $name" 0 1 $((SECONDS - start))
  fi
}

shellcheck_all() { shellcheck dmh scripts/*.sh redis/*.sh deploy/docker/*.sh .ci/run; }

run_lint() { # the rules tools enforce (README, "Lint"); the Release build fails on C# analyzer and style warnings too
  lint_step shellcheck "$ROOT" shellcheck_all
  # What the build does not see as well: using order, whitespace the formatter would change.
  lint_step dotnet-format "$ROOT" dotnet format Dmh.sln --verify-no-changes --severity warn --no-restore
  local app
  for app in admin h5; do
    node_modules "$app"
    lint_step "eslint-$app" "$ROOT/$app" npm run --silent lint:eslint
    lint_step "prettier-$app" "$ROOT/$app" npm run --silent lint:format
  done
}

# The as-user suite: `./dmh servers` run by an unprivileged user with sudo (the README's promise),
# in its own copy of the checkout and on its own ports, then healing a server left half set up.
AS_USER=dmh-ci-user
AS_USER_PORTS=(DMH_REDIS_PORT=6491 DMH_MYSQL_PORT=3491 DMH_TARGET_PORT=3492 DMH_PG_PORT=5491)

as_user_create() { # as root: the user, with passwordless sudo
  id -u "$AS_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$AS_USER"
  local file="/etc/sudoers.d/$AS_USER"
  printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$AS_USER" > "$file.new"
  chmod 0440 "$file.new"
  visudo -cqf "$file.new" && mv "$file.new" "$file"
}

as_user() { # as_user COPY COMMAND...: run in COPY as the suite's user (as oneself when not root)
  local copy=$1; shift
  local user home="$HOME" prefix=()
  user=$(stat -c %U "$copy")
  if [ "$(id -u)" -eq 0 ]; then prefix=(runuser -u "$user" --); home=$(getent passwd "$user" | cut -d: -f6); fi
  "${prefix[@]}" env -i -C "$copy" HOME="$home" USER="$user" PATH="$PATH" LANG=C.UTF-8 \
    DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 "${AS_USER_PORTS[@]}" DMH_INNODB_BUFFER=64M "$@"
}

as_user_checks() { # as_user_checks COPY: runs under set -e; the first failure ends it
  local copy=$1 user keys="$1/.dmh/keys" port
  user=$(stat -c %U "$copy")
  for port in 6491 3491 3492 5491; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is taken"; return 1; fi
  done
  echo "== ./dmh servers as $user"
  as_user "$copy" ./dmh servers
  as_user_connects "$copy"
  echo "== the dmh account dropped while MariaDB runs; ./dmh servers again must heal it"
  as_user "$copy" mariadb --socket="$copy/.dmh/run/mariadb-dmh.sock" -u"$user" \
    -e "DROP USER 'dmh'@'127.0.0.1'; DROP USER 'dmh'@'localhost'; DROP DATABASE dmh;"
  if mariadb -h127.0.0.1 -P3491 -udmh -p"$(cat "$keys/mysql-password")" -e 'SELECT 1' >/dev/null 2>&1; then
    echo "the dmh account still connects after DROP USER"; return 1
  fi
  as_user "$copy" ./dmh servers
  as_user_connects "$copy"
  echo "== ./dmh down as $user"
  as_user "$copy" ./dmh down
  for port in 6491 3491 3492 5491; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port still answers after ./dmh down"; return 1; fi
  done
}

as_user_connects() { # the services' accounts over TCP with the generated passwords
  local keys="$1/.dmh/keys"
  mariadb -h127.0.0.1 -P3491 -udmh -p"$(cat "$keys/mysql-password")" -e "SELECT 1 FROM DUAL" dmh >/dev/null
  mariadb -h127.0.0.1 -P3492 -udmh -p"$(cat "$keys/target-password")" -e "SELECT 1 FROM DUAL" customer >/dev/null
  [ "$(REDISCLI_AUTH=$(cat "$keys/redis-admin-password") redis-cli --user dmh-admin -p 6491 ping)" = PONG ]
  echo "dmh connects to both MariaDB servers, dmh-admin to Redis"
}

run_as_user_suite() {
  local start=$SECONDS copy rc=0 log="$LOGS/test-as-user.log"
  say "as-user: ./dmh servers as an unprivileged user with sudo (ports ${AS_USER_PORTS[*]})"
  if [ "$(id -u)" -eq 0 ]; then as_user_create; fi
  # The checkout's files as they are now (uncommitted changes too), without .dmh/ or build output.
  copy=$(mktemp -d /tmp/dmh-as-user.XXXXXX)
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
    | (cd "$ROOT" && while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done) \
    | tar -C "$ROOT" --null -T - -cf - | tar -C "$copy" -xf -
  if [ "$(id -u)" -eq 0 ]; then chown -R "$AS_USER:" "$copy"; fi
  set +e
  (set -e; as_user_checks "$copy") >"$log" 2>&1
  rc=$?
  set -e
  as_user "$copy" ./dmh down >>"$log" 2>&1 || true
  rm -rf "$copy"
  if [ "$rc" -eq 0 ]; then
    record as-user 1 0 $((SECONDS - start))
  else
    tail -30 "$log" >&2
    record as-user 0 1 $((SECONDS - start))
  fi
}

# The chaos suite: every fault-injection scenario, compressed (./dmh chaos --quick), one pass or
# fail per scenario; the runner prints the first lost or duplicated ids of a failure.
run_chaos_suite() {
  local start=$SECONDS log="$LOGS/test-chaos.log" counts
  say "chaos: every fault-injection scenario, compressed (log: $log)"
  (run_chaos --quick) >"$log" 2>&1 || true
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  if [ -z "$counts" ]; then
    tail -40 "$log" >&2
    record chaos 0 1 $((SECONDS - start))
    return 0
  fi
  grep -E '^\|' "$log" >&2 || true
  grep -E '\[chaos\] +(FAIL|  )' "$log" >&2 || true
  record chaos "${counts%% *}" "$(echo "$counts" | sed -E 's/.* ([0-9]+) failed/\1/')" $((SECONDS - start))
}

cmd_test() {
  local suites="${*:-lint as-user dotnet chaos admin-unit h5-unit admin-e2e h5-e2e}"
  local t0=$SECONDS servers_were_up=0
  prepare
  alive redis && alive mariadb-dmh && servers_were_up=1
  start_servers
  load_env
  build_dotnet
  case " $suites " in *" lint "*) run_lint ;; esac
  case " $suites " in *" as-user "*) run_as_user_suite ;; esac
  case " $suites " in *" dotnet "*) run_dotnet_tests ;; esac
  case " $suites " in *" chaos "*) run_chaos_suite ;; esac
  case " $suites " in *" admin-unit "*) build_frontend admin; run_node_suite admin-unit admin test:unit ;; esac
  case " $suites " in *" h5-unit "*) build_frontend h5; run_node_suite h5-unit h5 test:unit ;; esac
  case " $suites " in
    *"-e2e "*)
      build_frontend admin; build_frontend h5
      # Test the build just made, never services left running from an earlier ./dmh up.
      stop_services
      start_services
      export DMH_BASE_URL="http://127.0.0.1:$INGRESS_PORT" DMH_SIM_URL="http://127.0.0.1:$SIM_PORT"
      export DMH_ADMIN_USER=admin DMH_ADMIN_PASSWORD; DMH_ADMIN_PASSWORD=$(secret admin-password 12)
      case " $suites " in
        *" admin-e2e "*)
          start_approval_ingress
          export DMH_APPROVAL_BASE_URL="http://127.0.0.1:$APPROVAL_PORT"
          run_node_suite admin-e2e admin test:e2e
          ;;
      esac
      case " $suites " in *" h5-e2e "*) run_node_suite h5-e2e h5 test:e2e ;; esac
      stop_services
      ;;
  esac
  # Leave the machine as found: servers this run started are stopped again.
  [ "$servers_were_up" = 1 ] || stop_all
  printf '\nSuites (%ss in all):\n%s' $((SECONDS - t0)) "$SUMMARY" >&2
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
}
