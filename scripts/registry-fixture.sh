#!/usr/bin/env bash
# Runs Debian's docker-registry (distribution 2.x) on 127.0.0.1:PORT with token auth pointing at a Latchkey server,
# so end-to-end tests (and people) can push and pull with CI_REGISTRY_USER / CI_REGISTRY_PASSWORD.
#
#   scripts/registry-fixture.sh PORT SERVER_URL DATA_DIR STORAGE_DIR [PARENT_PID]
#
# SERVER_URL is the Latchkey server (the realm is SERVER_URL/jwt/auth); DATA_DIR is its data directory, which holds
# registry-cert.pem once the server has started. With PARENT_PID the registry stops when that process is gone.
# Needs `apt-get install -y docker-registry` (and skopeo for the tests' client).
set -euo pipefail

if [ $# -lt 4 ]; then
  echo "usage: $0 PORT SERVER_URL DATA_DIR STORAGE_DIR [PARENT_PID]" >&2
  exit 2
fi
port=$1
server=${2%/}
data=$3
storage=$4
parent=${5:-}

registry=$(command -v docker-registry || true)
if [ -z "$registry" ]; then
  echo "docker-registry is not installed (apt-get install -y docker-registry)" >&2
  exit 3
fi
if [ ! -s "$data/registry-cert.pem" ]; then
  echo "no $data/registry-cert.pem: start the Latchkey server first" >&2
  exit 4
fi

mkdir -p "$storage"
config="$storage/config.yml"
cat >"$config" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $storage/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: $(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
auth:
  token:
    realm: $server/jwt/auth
    service: container_registry
    issuer: latchkey
    rootcertbundle: $data/registry-cert.pem
EOF

if [ -z "$parent" ]; then
  exec "$registry" serve "$config"
fi

# Stop the registry with the process that started it, even if that one dies without cleaning up.
"$registry" serve "$config" &
child=$!
trap 'kill "$child" 2>/dev/null || true' EXIT INT TERM
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1; done
