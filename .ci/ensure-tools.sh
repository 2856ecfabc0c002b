#!/usr/bin/env bash
# Installs what the tests need when it can (root + apt), otherwise says in one
# line what is missing. Used by `make test` and `.ci/run`.
set -euo pipefail
need=()
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} (needed by the schema conformance tests)" >&2
  (apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null; })
  exit 0
fi
echo "missing: ${need[*]} (Debian: apt-get install ${need[*]}); the schema conformance tests need it" >&2
exit 1
