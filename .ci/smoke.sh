#!/usr/bin/env bash
# Smoke test of a built maru binary, as an operator would first try it:
# start on a fresh data directory, /healthz, register, log in, write a post,
# read it back, stop with SIGTERM.
#
#   .ci/smoke.sh BINARY [RUNNER...]
#
# RUNNER runs the binary, e.g. qemu-aarch64-static for an arm64 build on
# another machine. Only 127.0.0.1 is used.
set -euo pipefail
bin=$(realpath "$1")
shift
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "smoke: $*" >&2
  echo "--- server log" >&2
  cat "$dir/log" >&2 || true
  exit 1
}

"$@" "$bin" -addr 127.0.0.1:0 -data "$dir/data" >"$dir/log" 2>&1 &
pid=$!

# The chosen port is in the "serving" log line; emulation starts slowly.
addr=
for _ in $(seq 1 600); do
  addr=$(sed -n 's/.*msg=serving addr=\([0-9.:]*\).*/\1/p' "$dir/log" | head -n 1)
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || fail "the server exited before serving"
  sleep 0.1
done
[ -n "$addr" ] || fail "the server did not start within 60 s"
base="http://$addr"

req() { # METHOD PATH [BODY [TOKEN]]
  local args=(-sS --max-time 60 -X "$1" -w '\n%{http_code}')
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
  [ $# -ge 4 ] && args+=(-H "Authorization: Bearer $4")
  curl "${args[@]}" "$base$2"
}
expect() { # STATUS RESPONSE WHAT
  local status=${2##*$'\n'}
  [ "$status" = "$1" ] || fail "$3: status $status, want $1: ${2%$'\n'*}"
}

res=$(req GET /healthz)
expect 200 "$res" "healthz"
case $res in *'"status":"ok"'*) ;; *) fail "healthz: $res" ;; esac

res=$(req POST /user/registration/ '{"email":"smoke@example.org","password":"smoke test password"}')
expect 201 "$res" "register"

res=$(req POST /user/login/ '{"email":"smoke@example.org","password":"smoke test password"}')
expect 200 "$res" "login"
access=$(printf '%s' "$res" | sed -n 's/.*"access":"\([^"]*\)".*/\1/p')
[ -n "$access" ] || fail "login: no access token in $res"

res=$(req POST /api/post/write '{"title":"Hello from the Pi","content":"First post.","tags":["smoke"]}' "$access")
expect 201 "$res" "write a post"
id=$(printf '%s' "$res" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
[ -n "$id" ] || fail "write a post: no id in $res"

res=$(req GET "/api/post/detail/$id/")
expect 200 "$res" "read the post"
for want in '"title":"Hello from the Pi"' '"content":"First post."' '"name":"smoke"' '"hit":1'; do
  case $res in *"$want"*) ;; *) fail "read the post: $want not in $res" ;; esac
done

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || fail "exit status $status after SIGTERM"
grep -q 'msg="shutting down"' "$dir/log" || fail "no clean shutdown in the log"
echo "smoke: $(basename "$bin")${1:+ under $1}: healthz, register, login, write, read back, clean stop: ok"
