#!/usr/bin/env bash
# Fails, saying how to start one, unless a PostgreSQL server accepts connections at the URL
# given (default: the test server, postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
url="${1:-postgres://postgres@127.0.0.1:5432/test}"

# host and port out of postgres://user[:password]@host[:port]/database[?…]
rest="${url#*://}"
rest="${rest#*@}"
hostport="${rest%%/*}"
host="${hostport%%:*}"
port=5432
[[ "$hostport" == *:* ]] && port="${hostport##*:}"

if command -v pg_isready >/dev/null 2>&1; then
  if pg_isready -q -h "$host" -p "$port" -t 5; then exit 0; fi
elif timeout 5 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then
  exit 0
fi

cat >&2 <<MSG
error: PostgreSQL does not answer at $host:$port.
The test suite runs every store and HTTP test on PostgreSQL too, and does not skip them.
Start a server, for example on Debian:
    sudo apt-get install -y postgresql
    sudo pg_ctlcluster \$(ls /etc/postgresql) main start
    sudo -u postgres psql -c "CREATE DATABASE test"     # trust or a password in the URL
or point REDLINE_TEST_POSTGRES_URL at one (postgres://USER[:PASSWORD]@HOST:PORT/DATABASE).
MSG
exit 1
