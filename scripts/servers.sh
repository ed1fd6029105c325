# shellcheck shell=bash
# Sourced by ./dmh: the data servers (Redis, MariaDB for DMH and for the customer, PostgreSQL).

# Redis ACL users (redis/users.acl): dmh-admin for operators and tests, one per service; the
# default user is off. Passwords are generated once into .dmh/keys/redis-<user>-password.
REDIS_USERS="admin ingress settlement syncer"

redis_configuration() { # redis_configuration USER: a StackExchange.Redis configuration string
  echo "127.0.0.1:$REDIS_PORT,user=dmh-$1,password=$(secret "redis-$1-password")"
}

redis_cli() { REDISCLI_AUTH=$(secret redis-admin-password) redis-cli --user dmh-admin -p "$REDIS_PORT" "$@"; }

redis_ready() { [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }

write_redis_acl() {
  local user var
  for user in $REDIS_USERS; do
    var="REDIS_$(echo "$user" | tr '[:lower:]' '[:upper:]')_PASSWORD"
    export "$var=$(secret "redis-$user-password")"
  done
  (umask 077; sh "$ROOT/redis/render-acl.sh" "$ROOT/redis/users.acl" "" "$PERF_KEY_PREFIX" > "$DATA/redis/users.acl") \
    || die "could not render the Redis ACL users (redis/users.acl)"
}

start_redis() {
  mkdir -p "$DATA/redis"
  write_redis_acl
  if alive redis; then
    # Already running: take up any change of redis/users.acl.
    redis_cli ACL LOAD >/dev/null 2>&1 \
      || say "warning: the running Redis did not reload redis/users.acl (./dmh down, then start again)"
    return 0
  fi
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes \
    --aclfile "$DATA/redis/users.acl" \
    --dir "$DATA/redis" --appendonly yes --appendfsync always --save "" \
    --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log"
  # PING answers "LOADING" (exit 0) while the AOF is read back: wait for PONG.
  wait_for 120 "Redis" redis_ready
  say "Redis on 127.0.0.1:$REDIS_PORT (AOF, appendfsync always, ACL users from redis/users.acl)"
}

start_mariadb() { # start_mariadb NAME PORT PASSWORD_SECRET DATABASE
  local name=$1 port=$2 pw database=$4
  pw=$(secret "$3")
  local dir="$DATA/mariadb-$name" sock="$RUN/mariadb-$name.sock"
  if alive "mariadb-$name"; then
    # Running, or still going after a kill: a SIGKILLed mariadbd can take seconds to exit on a loaded
    # machine (found by ./dmh chaos). Wait until it answers or is gone; start a new one if it went.
    wait_for 180 "MariaDB ($name) to answer or exit" mariadb_answers_or_gone "$name" "$sock"
    if alive "mariadb-$name"; then
      mariadb_accounts "$name" "$pw" "$database"
      return 0
    fi
  fi
  # A server that just went may still hold its port for a moment.
  wait_for 60 "port $port to be free" port_free "$port"
  if [ ! -d "$dir/mysql" ]; then
    mkdir -p "$dir"
    mariadb-install-db --no-defaults --datadir="$dir" --user="$ME" \
      --auth-root-authentication-method=socket --auth-root-socket-user="$ME" \
      --skip-test-db >"$LOGS/mariadb-$name-install.log" 2>&1 \
      || { tail -20 "$LOGS/mariadb-$name-install.log" >&2; die "mariadb-install-db failed for $name"; }
  fi
  # --user: mariadbd refuses to run as root without it. Buffer pool, its full reload and
  # pool-of-threads: perf/README.md, "Server settings". DMH_MARIADB_OPTS adds options.
  # shellcheck disable=SC2086 # DMH_MARIADB_OPTS is a list of options
  setsid nohup mariadbd --no-defaults --datadir="$dir" --user="$ME" \
    --port="$port" --bind-address=127.0.0.1 --socket="$sock" --pid-file="$RUN/mariadb-$name.pid" \
    --log-error="$LOGS/mariadb-$name.log" --default-time-zone=+00:00 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --skip-name-resolve --max-connections=2000 --innodb-buffer-pool-size="${DMH_INNODB_BUFFER:-2G}" \
    --innodb-flush-log-at-trx-commit=1 --sync-binlog=0 --thread-handling=pool-of-threads --innodb-buffer-pool-dump-pct=100 ${DMH_MARIADB_OPTS:-} >/dev/null 2>&1 &
  wait_for 60 "MariaDB ($name)" mariadb-admin --socket="$sock" -u"$ME" ping
  mariadb_accounts "$name" "$pw" "$database"
  say "MariaDB ($name) on 127.0.0.1:$port"
}

mariadb_answers_or_gone() { ! alive "mariadb-$1" || mariadb-admin --socket="$2" -u"$ME" ping; }

port_free() { ! (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mariadb_accounts() { # mariadb_accounts NAME PASSWORD DATABASE: idempotent, so every start heals a half-set-up server
  local pw=$2 database=$3
  # mariadb-install-db gives socket authentication to the OS user that ran it: root@localhost when
  # that is root, otherwise an account named after that user ('root' stays the OS root's only).
  # The services' account: all privileges because the tests create a database per test class.
  mariadb --socket="$RUN/mariadb-$1.sock" -u"$ME" <<SQL || die "could not set up the dmh account in MariaDB ($1)"
CREATE USER IF NOT EXISTS 'dmh'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS 'dmh'@'localhost' IDENTIFIED BY '$pw';
ALTER USER 'dmh'@'127.0.0.1' IDENTIFIED BY '$pw';
ALTER USER 'dmh'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO 'dmh'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'dmh'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS \`$database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
SQL
}

# shellcheck disable=SC2012 # the version directories have plain names
pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

as_pg() { # PostgreSQL refuses to run as root: run it as the 'postgres' user then.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin dir="$DATA/postgres" sock="$RUN/postgres" pw
  bin=$(pg_bin); pw=$(secret pg-password)
  if as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then return 0; fi
  mkdir -p "$dir" "$sock"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir" "$sock"; chmod 700 "$dir"; fi
  if [ ! -s "$dir/PG_VERSION" ]; then
    local pwfile; pwfile=$(mktemp); printf '%s' "$pw" > "$pwfile"; chmod 644 "$pwfile"
    as_pg "$bin/initdb" -D "$dir" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --pwfile="$pwfile" -E UTF8 >"$LOGS/postgres-init.log" 2>&1 \
      || { rm -f "$pwfile"; tail -20 "$LOGS/postgres-init.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
  fi
  as_pg "$bin/pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" \
    -o "-p $PG_PORT -k $sock -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; die "PostgreSQL did not start"; }
  say "PostgreSQL on 127.0.0.1:$PG_PORT"
}

stop_postgres() {
  local bin; bin=$(pg_bin 2>/dev/null) || return 0
  [ -d "$DATA/postgres" ] || return 0
  as_pg "$bin/pg_ctl" -D "$DATA/postgres" -m fast stop >/dev/null 2>&1 || true
}

start_servers() {
  start_redis
  start_mariadb dmh "$MYSQL_PORT" mysql-password dmh
  start_mariadb target "$TARGET_PORT" target-password customer
  start_postgres
}

stop_servers() {
  stop_pid mariadb-target
  stop_pid mariadb-dmh
  stop_pid redis
  stop_postgres
}
