#!/bin/sh
# The containers' entry point: the NAME=VALUE lines of $DMH_ENV_FILE (./dmh keys writes them) become
# environment variables, then the service starts. The same files are systemd's EnvironmentFile.
set -eu
if [ -n "${DMH_ENV_FILE:-}" ]; then
  [ -r "$DMH_ENV_FILE" ] || { echo "DMH_ENV_FILE $DMH_ENV_FILE is not readable" >&2; exit 1; }
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in '' | '#'*) continue ;; esac
    export "${line%%=*}=${line#*=}"
  done < "$DMH_ENV_FILE"
fi
exec dotnet "/app/$DMH_PROJECT.dll" "$@"
