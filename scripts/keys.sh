# shellcheck shell=bash
# Sourced by ./dmh: secrets generated once into .dmh/keys (never in git), and .dmh/env, which
# ./dmh and the test fixtures (tests/*/Infrastructure/TestEnvironment.cs) read.

secret() { # secret NAME [bytes]: prints a random secret stored in .dmh/keys/NAME
  local file="$KEYS/$1"
  if [ ! -s "$file" ]; then
    (umask 077; openssl rand -base64 "${2:-24}" | tr -d '\n=' | tr '+/' '-_' > "$file")
  fi
  cat "$file"
}

secret_b64() { # a base64 key of N bytes (for HMAC/JWT/AES keys)
  local file="$KEYS/$1"
  if [ ! -s "$file" ]; then
    (umask 077; openssl rand -base64 "${2:-32}" | tr -d '\n' > "$file")
  fi
  cat "$file"
}

merchant_keys() { # the merchant's API key pair (apiclient_key.pem, PKCS#8) and a certificate serial, made once
  local dir="$KEYS/merchant"
  mkdir -p "$dir"
  if [ ! -s "$dir/apiclient_key.pem" ]; then
    (umask 077; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/apiclient_key.pem" 2>/dev/null)
    openssl pkey -in "$dir/apiclient_key.pem" -pubout -out "$dir/apiclient_public_key.pem"
    openssl rand -hex 20 | tr 'a-f' 'A-F' > "$dir/serial_no"
  fi
}

write_env() {
  local mysql_pw pg_pw target_pw
  mysql_pw=$(secret mysql-password)
  target_pw=$(secret target-password)
  pg_pw=$(secret pg-password)
  local mysql="Server=127.0.0.1;Port=$MYSQL_PORT;User ID=dmh;Password=$mysql_pw"
  # Each service connects to Redis as its own ACL user (redis/users.acl): start_service passes
  # DMH_REDIS_<SERVICE> as its Redis__Configuration; the tests and perf connect as dmh-admin.
  cat > "$STATE/env" <<ENV
Database__ConnectionString=$mysql;Database=dmh
DMH_REDIS_INGRESS=$(redis_configuration ingress)
DMH_REDIS_SETTLEMENT=$(redis_configuration settlement)
DMH_REDIS_SYNCER=$(redis_configuration syncer)
Security__TokenKey=$(secret_b64 token-key)
Security__JwtKey=$(secret_b64 jwt-key)
Security__DataKey=$(secret_b64 data-key)
Admin__InitialUser=admin
Admin__InitialPassword=$(secret admin-password 12)
WechatPay__ApiV3Key=$(secret apiv3-key 24 | cut -c1-32)
DMH_TEST_MYSQL=$mysql
DMH_TEST_REDIS=$(redis_configuration admin)
DMH_TEST_TARGET_MYSQL=Server=127.0.0.1;Port=$TARGET_PORT;User ID=dmh;Password=$target_pw
DMH_TEST_POSTGRES=Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$pg_pw
DMH_ROOT=$ROOT
ENV
  chmod 600 "$STATE/env"
}
