#!/usr/bin/env bash
# Starts a three-node Xietong cluster (fresh PostgreSQL database, shared Redis) behind nginx
# with server/deploy/nginx.conf, listening on 127.0.0.1:$1, for the browser cluster tests.
# Writes the nodes' process ids to $2. Runs until stopped; cleans up after itself.
set -euo pipefail
port="$1"
pids_file="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${XIETONG_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/xietong}"
admin="${XIETONG_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
redis="${XIETONG_TEST_REDIS:-redis://127.0.0.1:6379}"
dir="$(mktemp -d)"
db="xietong_e2e_$$"
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"; }

cleanup() {
  trap - EXIT INT TERM
  nginx -p "$dir" -c "$dir/nginx.conf" -s stop 2>/dev/null || true
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

psql "$admin" -qc "CREATE DATABASE $db" >/dev/null
db_url="${admin%/*}/$db"
upstream=""
: > "$pids_file"
for i in 1 2 3; do
  p=$(free_port)
  "$bin" --bind "127.0.0.1:$p" --database-url "$db_url" --redis-url "$redis" \
    --public-url "http://127.0.0.1:$port" --auth-rate 100000 \
    --files-dir "$dir/files" --site-root "$root/target/site" --log warn &
  echo $! >> "$pids_file"
  upstream+="    server 127.0.0.1:$p max_fails=1 fail_timeout=5s;\n"
  # The first node applies the migrations; wait for each before starting the next.
  up=""
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$p/login" && { up=1; break; }; sleep 0.1; done
  if [[ -z "$up" ]]; then
    echo "cluster.sh: node $i on 127.0.0.1:$p did not answer within 10 s" >&2
    exit 1
  fi
done

# The repository's site configuration with this run's nodes and port.
site=$(awk -v up="$upstream" '
  /^upstream xietong/ { print; printf "%s", up; skip=1; next }
  skip && /^}/ { skip=0 }
  !skip { print }' "$root/server/deploy/nginx.conf" | sed "s/listen 8080;/listen 127.0.0.1:$port;/")
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
error_log $dir/error.log;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
$site
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off;" &
wait
