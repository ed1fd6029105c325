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

simulator_keys() { # the WeChat Pay simulator's key pair, public-key id and platform certificate (Dmh.WechatSim/SimKeys.cs reads them), made once
  local dir="$KEYS/simulator"
  mkdir -p "$dir"
  [ -s "$dir/wechatpay_public_key.pem" ] && return 0
  (umask 077; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/wechatpay_private_key.pem" 2>/dev/null)
  openssl req -x509 -new -key "$dir/wechatpay_private_key.pem" -sha256 -days 1825 \
    -subj "/CN=Tenpay.com Root CA Simulator/O=DMH WechatSim" -out "$dir/wechatpay_platform_cert.pem" 2>/dev/null
  echo "PUB_KEY_ID_SIM$(openssl rand -hex 8 | tr 'a-f' 'A-F')" > "$dir/wechatpay_public_key_id"
  # Last: its presence means the rest exists (as in SimKeys).
  openssl pkey -in "$dir/wechatpay_private_key.pem" -pubout -out "$dir/wechatpay_public_key.pem"
}

cmd_keys() { # ./dmh keys DIR: a deployment's secrets, keys and one settings file per service (DIR/<service>.env)
  local dir=${1:?usage: ./dmh keys DIR}
  mkdir -p "$dir"
  KEYS=$(cd "$dir" && pwd)
  chmod 750 "$KEYS"
  local db=${DMH_DB_ADDRESS:-127.0.0.1:3306} redis=${DMH_REDIS_ADDRESS:-127.0.0.1:6379} target=${DMH_TARGET_ADDRESS:-}
  local dll=${DMH_SYNCER_DLL:-$(service_dir Dmh.Syncer)/Dmh.Syncer.dll}
  merchant_keys
  simulator_keys
  local mysql_pw data_key target_enc service
  secret redis-admin-password >/dev/null # the operators' Redis user (compose.yaml's redis service reads the files)
  mysql_pw=$(secret mysql-password)
  data_key=$(secret_b64 data-key)
  # The customer's database: by default the 'customer' database on DMH's own server, same account.
  target_enc=$(printf '%s' "$(secret "${DMH_TARGET_SECRET:-mysql-password}")" | Security__DataKey="$data_key" dotnet "$dll" encrypt-secret) \
    || die "could not encrypt the customer database password (is $dll built?)"
  for service in ingress settlement syncer; do
    {
      echo "Database__ConnectionString=Server=${db%:*};Port=${db##*:};User ID=dmh;Password=$mysql_pw;Database=dmh"
      echo "Redis__Configuration=$redis,user=dmh-$service,password=$(secret "redis-$service-password")"
      echo "Security__TokenKey=$(secret_b64 token-key)"
      echo "Security__JwtKey=$(secret_b64 jwt-key)"
      echo "Security__DataKey=$data_key"
      case $service in
        ingress | settlement) wechatpay_settings ;;
      esac
      case $service in
        ingress) echo "Admin__InitialPassword=$(secret admin-password 12)" ;;
        syncer)
          echo "ExternalSync__Database__Password=$target_enc"
          [ -z "$target" ] || printf 'ExternalSync__Database__Host=%s\nExternalSync__Database__Port=%s\n' "${target%:*}" "${target##*:}"
          ;;
      esac
    } | deployment_env_file "$service"
  done
  {
    echo "Simulator__KeyDirectory=$KEYS/simulator"
    echo "Simulator__ApiV3Key=$(secret apiv3-key 24 | cut -c1-32)"
    echo "Simulator__MerchantPublicKeyFile=$KEYS/merchant/apiclient_public_key.pem"
    echo "Simulator__MerchantSerialNo=$(cat "$KEYS/merchant/serial_no")"
    echo "Simulator__AppSecret=$(secret wechat-app-secret 24)"
  } | deployment_env_file wechatsim
  say "keys and settings in $KEYS (ingress.env settlement.env syncer.env wechatsim.env)"
}

wechatpay_settings() { # the merchant's secrets; the key files are the simulator's until WeChat's own replace them
  echo "WechatPay__ApiV3Key=$(secret apiv3-key 24 | cut -c1-32)"
  echo "WechatPay__MerchantSerialNo=$(cat "$KEYS/merchant/serial_no")"
  echo "WechatPay__MerchantPrivateKeyFile=$KEYS/merchant/apiclient_key.pem"
  echo "WechatPay__PublicKeyId=$(cat "$KEYS/simulator/wechatpay_public_key_id")"
  echo "WechatPay__PublicKeyFile=$KEYS/simulator/wechatpay_public_key.pem"
  echo "WechatPay__AppSecret=$(secret wechat-app-secret 24)"
}

deployment_env_file() { # deployment_env_file SERVICE < lines: written once; an operator's later edits are kept
  local file="$KEYS/$1.env"
  if [ -s "$file" ]; then cat >/dev/null; return 0; fi
  (umask 077; { echo "# $1's secrets (./dmh keys); NAME=VALUE lines, read by systemd's EnvironmentFile and the containers"; cat; } > "$file")
}
