#!/bin/sh
# Prints users.acl ready for redis-server --aclfile: comments dropped, {prefix} replaced by PREFIX and
# {password:NAME} by "#" and the SHA-256 of $REDIS_<NAME>_PASSWORD, so the file holds no password.
# Further prefixes repeat each key pattern once per prefix (./dmh: "" and "perf:", the prefix of the
# services ./dmh perf starts against their own database).
# Usage: REDIS_ADMIN_PASSWORD=… REDIS_INGRESS_PASSWORD=… REDIS_SETTLEMENT_PASSWORD=… REDIS_SYNCER_PASSWORD=… \
#          render-acl.sh users.acl [PREFIX [PREFIX…]] > /path/to/users.acl
set -eu
template=$1
shift
[ $# -gt 0 ] || set -- ""
patterns='\1'"$1"'\2'
for prefix in "$@"; do
  case $prefix in *[!A-Za-z0-9:_{}-]*) echo "render-acl.sh: the prefix may hold only letters, digits and :_-{}" >&2; exit 1 ;; esac
done
shift
for prefix in "$@"; do patterns="$patterns"' \1'"$prefix"'\2'; done
set --
for name in admin ingress settlement syncer; do
  var=REDIS_$(echo "$name" | tr '[:lower:]' '[:upper:]')_PASSWORD
  eval "password=\${$var:-}"
  [ -n "$password" ] || { echo "render-acl.sh: $var is not set" >&2; exit 1; }
  hash=$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)
  set -- "$@" -e "s/{password:$name}/#$hash/g"
done
grep -v -e '^#' -e '^[[:space:]]*$' "$template" | sed "$@" -e "s/\([%RW]*[~&]\){prefix}\([^ )]*\)/$patterns/g"
