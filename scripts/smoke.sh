#!/bin/sh
# Smoke test for a running mcp-lab deployment with curl alone (no Node, no jq): the same checks as
# `pnpm smoke`, with the same PASS/FAIL lines, for machines without Node. Works with any POSIX sh
# (dash, bash, busybox ash).
#
#   scripts/smoke.sh <base-url> [token] [--token T] [--ask [MODEL]] [--timeout MS]
#
# Prints `PASS <name> <detail>` or `FAIL <name> <detail>` per check, then `N passed, M failed`.
# Exit code 0 when every check passed, 1 when one failed, 2 on bad usage.
# Every check times out after 15 s (--ask: 120 s); --timeout MS (or SMOKE_TIMEOUT=seconds) sets it
# for every check, --ask included, as `pnpm smoke --timeout MS` does.
# shellcheck disable=SC2317 # functions called indirectly (trap, poll) are reachable
set -u

USAGE="usage: $0 <base-url> [token] [--token T] [--ask [MODEL]] [--timeout MS]   (or SMOKE_TIMEOUT=seconds)"
usage() {
  echo "$USAGE" >&2
  exit 2
}
BASE=
TOKEN=
ASK=
MODEL=
TIMEOUT_MS=
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) echo "$USAGE"; exit 0 ;;
    --token)
      if [ "$#" -lt 2 ] || [ -z "$2" ]; then echo "smoke.sh: --token needs a value" >&2; usage; fi
      TOKEN=$2; shift ;;
    --timeout)
      [ "$#" -ge 2 ] || { echo "smoke.sh: --timeout needs a value" >&2; usage; }
      case "$2" in
        '' | *[!0-9]* | 0) echo "smoke.sh: --timeout must be a whole number of milliseconds, got $2" >&2; usage ;;
      esac
      TIMEOUT_MS=$2; shift ;;
    --ask)
      ASK=1
      case "${2:-}" in
        '' | -* | http://* | https://*) ;;
        *) MODEL=$2; shift ;;
      esac ;;
    --ask=*) ASK=1; MODEL=${1#--ask=} ;;
    -*) echo "smoke.sh: unknown option $1" >&2; usage ;;
    *)
      if [ -z "$BASE" ]; then
        case "$1" in
          http://?* | https://?*) BASE=$1 ;;
          *) echo "smoke.sh: <base-url> must be an http:// or https:// URL, got: $1" >&2; usage ;;
        esac
      elif [ -z "$TOKEN" ]; then TOKEN=$1
      else echo "smoke.sh: unexpected argument $1" >&2; usage; fi ;;
  esac
  shift
done
[ -n "$BASE" ] || { echo "smoke.sh: missing <base-url>" >&2; usage; }
BASE=$(printf '%s' "$BASE" | sed 's:/*$::')
ORIGIN=$(printf '%s' "$BASE" | sed 's|^\(https*://[^/]*\).*|\1|')
# Whole seconds: --timeout MS (rounded up), else SMOKE_TIMEOUT, else 15 (and 120 for --ask).
if [ -n "$TIMEOUT_MS" ]; then
  TIMEOUT=$(((TIMEOUT_MS + 999) / 1000))
  ASK_TIMEOUT=$TIMEOUT
else
  TIMEOUT=${SMOKE_TIMEOUT:-15}
  case "$TIMEOUT" in
    '' | *[!0-9]* | 0) echo "smoke.sh: SMOKE_TIMEOUT must be a whole number of seconds, got: $TIMEOUT" >&2; exit 2 ;;
  esac
  ASK_TIMEOUT=${SMOKE_TIMEOUT:-120}
fi
command -v curl >/dev/null 2>&1 || { echo "smoke.sh: curl is required" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mcp-lab-smoke.XXXXXX") || exit 1
SSE_PID=
cleanup() {
  if [ -n "$SSE_PID" ]; then kill "$SSE_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
# The token goes to curl in a file (-H @file), so it never shows in the process list.
if [ -n "$TOKEN" ]; then printf 'Authorization: Bearer %s\n' "$TOKEN" >"$TMP/auth"; fi

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); printf 'PASS %s %s\n' "$1" "$2"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s %s\n' "$1" "$2"; }
finish() {
  printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
  if [ "$FAILED" -eq 0 ]; then exit 0; else exit 1; fi
}

# req NAME CURL-ARGS...: body to $TMP/NAME.body, headers to NAME.head, curl's error to NAME.err;
# prints the HTTP status (000 when there was no HTTP answer). REQ_TIMEOUT (seconds) overrides TIMEOUT.
req() {
  _name=$1
  shift
  if [ -n "$TOKEN" ]; then set -- -H "@$TMP/auth" "$@"; fi
  curl -gsS --connect-timeout "$TIMEOUT" --max-time "${REQ_TIMEOUT:-$TIMEOUT}" -o "$TMP/$_name.body" -D "$TMP/$_name.head" \
    -w '%{http_code}' "$@" 2>"$TMP/$_name.err"
}

# one_line FILE: the file's text on one line, at most 300 characters.
one_line() { tr '\r\n' '  ' <"$1" | sed 's/  */ /g; s/^\(.\{300\}\).*/\1/'; }

# why NAME CODE: what went wrong with request NAME, for a FAIL line.
why() {
  if [ "$2" = "000" ]; then sed -n '1s/^curl: ([0-9]*) //p' "$TMP/$1.err"
  else printf 'HTTP %s %s' "$2" "$(one_line "$TMP/$1.body")"; fi
}

# field KEY FILE: the first string value of "KEY" in the JSON in FILE.
field() { sed -E -n "s/.*\"$1\" *: *\"(([^\"\\\\]|\\\\.)*)\".*/\\1/p" "$2" | sed -n 1p; }

# rpc_error FILE: a JSON-RPC error's message, or the first part of the body.
rpc_error() {
  _msg=$(sed -E -n 's/.*"error" *: *\{.*"message" *: *"(([^"\\]|\\.)*)".*/\1/p' "$1" | sed -n 1p)
  if [ -n "$_msg" ]; then printf '%s' "$_msg"; else one_line "$1"; fi
}

# Both transports answer a request with JSON, plain or SSE-framed (`event: message` / `data: {...}`).
unframe() {
  if grep -q '^data:' "$TMP/$1.body"; then sed -n 's/^data: *//p' "$TMP/$1.body"; else cat "$TMP/$1.body"; fi >"$TMP/$1.json"
}

# The protocol version that `pnpm smoke` (the official TypeScript SDK's client) asks for.
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp-lab-smoke.sh","version":"1.0.0"}}}'
INITIALIZED='{"jsonrpc":"2.0","method":"notifications/initialized"}'
LIST='{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}'
ADD='{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}'
# The same list and prompt as scripts/smoke.ts (pull_model is offered only where PULL_ENABLED is on).
EXPECTED_TOOLS="add ask_llm compare_models list_models model_info"
ASK_PROMPT="Reply with the single word: pong"

# judge_initialize / judge_list / judge_add KIND FILE: PASS or FAIL from a JSON-RPC response.
judge_initialize() {
  if grep -q '"result"' "$2" && grep -q '"protocolVersion"' "$2"; then
    sed -n 's/.*"serverInfo" *: *{\([^}]*\)}.*/\1/p' "$2" >"$2.server"
    pass "$1.initialize" "server=$(field name "$2.server") $(field version "$2.server") protocol=$(field protocolVersion "$2")"
    return 0
  fi
  fail "$1.initialize" "$(rpc_error "$2")"
  return 1
}
judge_list() {
  _names=$(grep -o '"name" *: *"[^"]*"' "$2" | sed 's/.*: *"\(.*\)"$/\1/' | tr '\n' ' ')
  _missing=
  for _tool in $EXPECTED_TOOLS; do
    case " $_names " in *" $_tool "*) ;; *) _missing="$_missing $_tool" ;; esac
  done
  _count=$(printf '%s' "$_names" | wc -w | tr -d ' ')
  _list=$(printf '%s' "$_names" | sed 's/ *$//; s/ /, /g')
  if ! grep -q '"tools"' "$2"; then fail "$1.tools/list" "$(rpc_error "$2")"
  elif [ -n "$_missing" ]; then fail "$1.tools/list" "missing $(printf '%s' "$_missing" | sed 's/^ //; s/ /, /g'); got ${_list:-no tools}"
  else pass "$1.tools/list" "$_count tools: $_list"; fi
}
judge_add() {
  if grep -q '"text" *: *"5"' "$2" && ! grep -q '"isError" *: *true' "$2"; then pass "$1.add" "add(2, 3) = 5"
  else fail "$1.add" "expected 5: $(rpc_error "$2")"; fi
}

# mcp_post NAME JSON: one POST to /mcp, with the session headers once there is a session.
mcp_post() {
  _n=$1
  set -- -X POST -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' --data "$2" "$BASE/mcp"
  if [ -n "$SESSION" ]; then set -- -H "mcp-session-id: $SESSION" -H "mcp-protocol-version: $PROTO" "$@"; fi
  req "$_n" "$@"
}

# mcp_step KIND NAME JSON: POST to /mcp, unframe the answer into $TMP/NAME.json; FAIL and return 1 on no 200.
mcp_step() {
  _code=$(mcp_post "$2" "$3")
  if [ "$_code" = "200" ]; then unframe "$2"; return 0; fi
  fail "$1" "$(why "$2" "$_code")"
  return 1
}

check_probes() {
  code=$(req health "$BASE/health")
  if [ "$code" = "000" ]; then
    fail health "$(why health "$code")"
    for name in ready mcp.initialize mcp.tools/list mcp.add sse.initialize sse.tools/list sse.add ${ASK:+mcp.ask_llm}; do
      fail "$name" "skipped: no HTTP answer from $BASE (see health)"
    done
    finish
  fi
  if [ "$code" = "200" ] && grep -q '"status" *: *"ok"' "$TMP/health.body"; then
    pass health "HTTP 200 status=ok version=$(field version "$TMP/health.body")"
  else fail health "$(why health "$code")"; fi
  code=$(req ready "$BASE/ready")
  [ "$code" = "000" ] && { fail ready "$(why ready "$code")"; return; }
  about=
  for key in status model provider; do
    value=$(field "$key" "$TMP/ready.body")
    if [ -n "$value" ]; then about="$about $key=$value"; fi
  done
  reason=$(field reason "$TMP/ready.body")
  if [ "$code" = "200" ]; then pass ready "HTTP 200$about"
  else fail ready "HTTP $code$about reason: ${reason:-$(one_line "$TMP/ready.body")}"; fi
}

# Leaves the session open (SESSION, PROTO) for check_ask; close_streamable ends it.
check_streamable() {
  SESSION=
  PROTO=
  MCP_OK=
  if mcp_step mcp.initialize m_init "$INIT" && judge_initialize mcp "$TMP/m_init.json"; then
    MCP_OK=1
    SESSION=$(grep -i '^mcp-session-id:' "$TMP/m_init.head" | sed 's/^[^:]*: *//' | tr -d '\r' | sed -n 1p)
    PROTO=$(field protocolVersion "$TMP/m_init.json")
    mcp_post m_initialized "$INITIALIZED" >/dev/null
    if mcp_step mcp.tools/list m_list "$LIST"; then judge_list mcp "$TMP/m_list.json"; fi
    if mcp_step mcp.add m_add "$ADD"; then judge_add mcp "$TMP/m_add.json"; fi
  else
    fail mcp.tools/list "skipped: mcp.initialize failed"
    fail mcp.add "skipped: mcp.initialize failed"
  fi
}

close_streamable() {
  if [ -n "$SESSION" ]; then req m_delete -X DELETE -H "mcp-session-id: $SESSION" "$BASE/mcp" >/dev/null; fi
}

# json_string TEXT: TEXT as the inside of a JSON string.
json_string() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }

# One real ask_llm call over the streamable session, like `pnpm smoke --ask [MODEL]`.
check_ask() {
  if [ -z "$MCP_OK" ]; then fail mcp.ask_llm "skipped: mcp.initialize failed"; return; fi
  _args="\"prompt\":\"$(json_string "$ASK_PROMPT")\""
  if [ -n "$MODEL" ]; then _args="$_args,\"model\":\"$(json_string "$MODEL")\""; fi
  _call="{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"ask_llm\",\"arguments\":{$_args}}}"
  REQ_TIMEOUT=$ASK_TIMEOUT mcp_step mcp.ask_llm m_ask "$_call" || return
  # The answer may come after progress notifications on the same stream: take the response to id 4.
  grep '"id" *: *4 *[,}]' "$TMP/m_ask.json" >"$TMP/m_ask.result"
  _r="$TMP/m_ask.result"
  if ! grep -q '"result"' "$_r"; then fail mcp.ask_llm "$(rpc_error "$TMP/m_ask.json")"; return; fi
  if grep -q '"isError" *: *true' "$_r"; then
    _text=$(field text "$_r")
    fail mcp.ask_llm "${_text:-isError with no text}"
    return
  fi
  _model=$(field model "$_r")
  _provider=$(field provider "$_r")
  _latency=$(sed -E -n 's/.*"latencyMs" *: *([0-9]+).*/\1/p' "$_r" | sed -n 1p)
  _answer=$(field answer "$_r")
  [ -n "$_answer" ] || _answer=$(field text "$_r")
  # At most 60 characters, with no backslash left dangling at the end of the JSON string.
  _answer=$(printf '%s' "$_answer" | sed 's/^\(.\{60\}\).*/\1/; s/\\*$//')
  pass mcp.ask_llm "model=${_model:-${MODEL:-default}} provider=${_provider:-?} latencyMs=${_latency:-?} answer=\"$_answer\""
}

# poll COMMAND...: runs COMMAND every 0.2 s until it succeeds, for at most SMOKE_TIMEOUT seconds.
poll() {
  _tries=$((TIMEOUT * 5))
  while [ "$_tries" -gt 0 ]; do
    "$@" && return 0
    kill -0 "$SSE_PID" 2>/dev/null || { "$@"; return; }
    sleep 0.2
    _tries=$((_tries - 1))
  done
  return 1
}

sse_endpoint() {
  ENDPOINT=$(sed -n '/^event: *endpoint/{n;s/^data: *//p;q;}' "$TMP/sse.stream" | tr -d '\r')
  [ -n "$ENDPOINT" ]
}

# sse_response ID: the stream's JSON-RPC response with this id, into $TMP/s_ID.json.
sse_response() {
  sed -n 's/^data: *//p' "$TMP/sse.stream" | grep "\"id\" *: *$1 *[,}]" >"$TMP/s_$1.json"
}

# sse_step NAME ID JSON: POST JSON to the session's /messages (expects 202), then await its response.
sse_step() {
  _code=$(req "s_post$2" -X POST -H 'content-type: application/json' --data "$3" "$MSG_URL")
  case "$_code" in 2??) ;; *) fail "$1" "POST $ENDPOINT: $(why "s_post$2" "$_code")"; return 1 ;; esac
  [ "$2" = "-" ] && return 0
  if poll sse_response "$2"; then return 0; fi
  fail "$1" "no response on the SSE stream within ${TIMEOUT}s: $(one_line "$TMP/sse.err")"
  return 1
}

open_sse() {
  if [ -n "$TOKEN" ]; then set -- -H "@$TMP/auth"; else set --; fi
  # Created here, not by the background job's redirection, so the first poll cannot miss it.
  : >"$TMP/sse.stream"
  curl -gsSN --connect-timeout "$TIMEOUT" --max-time "$((TIMEOUT * 6))" -H 'accept: text/event-stream' "$@" \
    "$BASE/sse" >>"$TMP/sse.stream" 2>"$TMP/sse.err" &
  SSE_PID=$!
  if ! poll sse_endpoint; then
    fail sse.initialize "no endpoint event on GET /sse within ${TIMEOUT}s: $(one_line "$TMP/sse.err") $(one_line "$TMP/sse.stream")"
    return 1
  fi
  case "$ENDPOINT" in
    http://* | https://*) MSG_URL=$ENDPOINT ;;
    /*) MSG_URL=$ORIGIN$ENDPOINT ;;
    *) MSG_URL=$BASE/$ENDPOINT ;;
  esac
}

check_sse() {
  if open_sse && sse_step sse.initialize 1 "$INIT" && sse_step sse.initialize - "$INITIALIZED" &&
    judge_initialize sse "$TMP/s_1.json"; then
    if sse_step sse.tools/list 2 "$LIST"; then judge_list sse "$TMP/s_2.json"; fi
    if sse_step sse.add 3 "$ADD"; then judge_add sse "$TMP/s_3.json"; fi
  else
    fail sse.tools/list "skipped: sse.initialize failed"
    fail sse.add "skipped: sse.initialize failed"
  fi
  if [ -n "$SSE_PID" ]; then kill "$SSE_PID" 2>/dev/null; wait "$SSE_PID" 2>/dev/null; SSE_PID=; fi
}

check_probes
check_streamable
check_sse
if [ -n "$ASK" ]; then check_ask; fi
close_streamable
finish
