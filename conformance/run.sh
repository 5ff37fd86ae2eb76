#!/usr/bin/env bash
# Run ADL's lrs-conformance-test-suite against a freshly started `lrs serve`.
#
#   conformance/run.sh SUITE_DIR 1.0.3|2.0.0 [extra suite args, e.g. -g 'XAPI-00143']
#
# Starts the LRS (embedded PostgreSQL in a throw-away data dir) on a free port,
# runs the suite's console runner against http://127.0.0.1:PORT/xapi with basic
# auth, stops the server, and summarises the suite's JSON result log.
# The last line printed is "N passed, M failed"; exit status is 0 iff M == 0.
# See conformance/README.md.
set -euo pipefail

usage() {
    echo "usage: $0 SUITE_DIR 1.0.3|2.0.0 [extra console_runner args, e.g. -g PATTERN]" >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
SUITE_DIR=$(cd "$1" && pwd) || usage
XAPI_VERSION=$2
shift 2
case "$XAPI_VERSION" in
    1.0.3|2.0.0) ;;
    *) echo "error: version must be 1.0.3 or 2.0.0 (got '$XAPI_VERSION')" >&2; exit 2 ;;
esac

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
LRS_BIN="$SCRIPT_DIR/../.venv/bin/lrs"
PYTHON_BIN="$SCRIPT_DIR/../.venv/bin/python"
[[ -x "$PYTHON_BIN" ]] || PYTHON_BIN=$(command -v python3)

if [[ ! -x "$LRS_BIN" ]]; then
    echo "error: $LRS_BIN not found; run 'make install' in the repository root first." >&2
    exit 2
fi
if [[ ! -f "$SUITE_DIR/bin/console_runner.js" ]]; then
    echo "error: $SUITE_DIR does not look like lrs-conformance-test-suite (no bin/console_runner.js)." >&2
    exit 2
fi
if [[ ! -d "$SUITE_DIR/node_modules" ]]; then
    echo "error: run 'npm install' in $SUITE_DIR first." >&2
    exit 2
fi
command -v node >/dev/null || { echo "error: node is not on PATH." >&2; exit 2; }

WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lrs-conformance.XXXXXX")
DATA_DIR="$WORK_DIR/data"
SERVER_LOG="$WORK_DIR/server.log"
SUITE_OUT="$WORK_DIR/suite-output.txt"
RESULTS_JSON="$WORK_DIR/results.json"
mkdir -p "$DATA_DIR"

PORT=$("$PYTHON_BIN" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
ADMIN_KEY="conformance$("$PYTHON_BIN" -c 'import secrets; print(secrets.token_hex(6))')"
ADMIN_SECRET=$("$PYTHON_BIN" -c 'import secrets; print(secrets.token_urlsafe(24))')
BASE_URL="http://127.0.0.1:$PORT"
ENDPOINT="$BASE_URL/xapi"

SERVER_PID=""
SUITE_PID=""

stop_postgres() {
    # The embedded PostgreSQL lives somewhere under DATA_DIR; stop every
    # postmaster whose postmaster.pid we find there (SIGINT = fast shutdown).
    local pidfile pid i
    while IFS= read -r pidfile; do
        pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
        [[ "$pid" =~ ^[0-9]+$ ]] || continue
        kill -0 "$pid" 2>/dev/null || continue
        kill -INT "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "warning: postgres $pid did not stop after SIGINT; sending SIGQUIT" >&2
            kill -QUIT "$pid" 2>/dev/null || true
        fi
    done < <(find "$DATA_DIR" -name postmaster.pid 2>/dev/null)
}

stop_all() {
    set +e
    if [[ -n "$SUITE_PID" ]] && kill -0 "$SUITE_PID" 2>/dev/null; then
        kill -INT "$SUITE_PID" 2>/dev/null
        sleep 1
        kill "$SUITE_PID" 2>/dev/null
    fi
    SUITE_PID=""
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -INT "$SERVER_PID" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID" 2>/dev/null
    fi
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
    stop_postgres
    set -e
}

SUMMARISED=0
cleanup() {
    local rc=$?
    stop_all
    if [[ $SUMMARISED -ne 1 ]]; then
        echo "LRS server log: $SERVER_LOG" >&2
        echo "Work dir: $WORK_DIR" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "Starting LRS on $ENDPOINT (data dir $DATA_DIR)" >&2
# A request that names no version is answered with this version header (docs/adr/0005); the run certifies $XAPI_VERSION.
LRS_DATA_DIR="$DATA_DIR" LRS_HOST=127.0.0.1 LRS_PORT="$PORT" LRS_DEFAULT_VERSION="$XAPI_VERSION" \
    LRS_ADMIN_KEY="$ADMIN_KEY" LRS_ADMIN_SECRET="$ADMIN_SECRET" \
    "$LRS_BIN" serve >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

ready=0
deadline=$((SECONDS + 60))
while (( SECONDS < deadline )); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        break
    fi
    if "$PYTHON_BIN" - "$ENDPOINT/about" "$XAPI_VERSION" <<'PY' 2>/dev/null
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"X-Experience-API-Version": sys.argv[2]})
try:
    sys.exit(0 if urllib.request.urlopen(req, timeout=2).status == 200 else 1)
except Exception:
    sys.exit(1)
PY
    then
        ready=1
        break
    fi
    sleep 0.5
done
if [[ $ready -ne 1 ]]; then
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "error: LRS did not answer 200 on $ENDPOINT/about within 60 s. Server log:" >&2
    else
        echo "error: LRS exited before becoming ready. Server log:" >&2
    fi
    cat "$SERVER_LOG" >&2
    exit 1
fi
echo "LRS ready; running conformance suite (xAPI $XAPI_VERSION)${*:+ with extra args: $*}" >&2

# The console runner exits with (failures mod 256), so its status is ignored;
# results are read from the JSON log it writes to SUITE_DIR/logs/<uuid>.log.
(
    cd "$SUITE_DIR"
    exec node bin/console_runner.js -e "$ENDPOINT" -a -u "$ADMIN_KEY" -p "$ADMIN_SECRET" \
        -x "$XAPI_VERSION" "$@"
) >"$SUITE_OUT" 2>&1 &
SUITE_PID=$!

# Show progress: the runner prints {"total":..,"passed":..,"failed":..} every 2 s.
# Watchdog: some suite tests have no timeout and hang forever if the LRS dies or
# never reports consistency; on server exit or no progress for STALL_TIMEOUT
# seconds, SIGINT the runner, whose handler still writes a (cancelled) result log.
STALL_TIMEOUT=${CONFORMANCE_STALL_TIMEOUT:-300}
last=""
last_change=$SECONDS
abort_reason=""
while kill -0 "$SUITE_PID" 2>/dev/null; do
    sleep 2
    cur=$(grep -a '^{"total"' "$SUITE_OUT" 2>/dev/null | tail -n 1 || true)
    if [[ -n "$cur" && "$cur" != "$last" ]]; then
        echo "  progress: $cur" >&2
        last=$cur
        last_change=$SECONDS
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        abort_reason="the LRS server exited during the run"
    elif (( SECONDS - last_change > STALL_TIMEOUT )); then
        abort_reason="no progress for ${STALL_TIMEOUT}s (a test is stuck; set CONFORMANCE_STALL_TIMEOUT to change)"
    fi
    if [[ -n "$abort_reason" ]]; then
        echo "error: $abort_reason; cancelling the suite, partial results follow." >&2
        kill -INT "$SUITE_PID" 2>/dev/null || true
        for _ in $(seq 1 30); do
            kill -0 "$SUITE_PID" 2>/dev/null || break
            sleep 1
        done
        if [[ "$abort_reason" == "the LRS server exited"* ]]; then
            echo "--- last lines of $SERVER_LOG ---" >&2
            tail -n 30 "$SERVER_LOG" >&2
        fi
        break
    fi
done
wait "$SUITE_PID" 2>/dev/null || true
SUITE_PID=""

stop_all
echo "LRS server log: $SERVER_LOG" >&2
echo "Suite console output: $SUITE_OUT" >&2
echo "Machine-readable results: $RESULTS_JSON" >&2
SUMMARISED=1
LOG_FILE=$(sed -n 's/^.*Full run log written to \(.*\)$/\1/p' "$SUITE_OUT" | tail -n 1)
if [[ -z "$LOG_FILE" || ! -f "$LOG_FILE" ]]; then
    echo "error: the suite did not write a result log; its output follows:" >&2
    tail -n 50 "$SUITE_OUT" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

set +e
"$PYTHON_BIN" "$SCRIPT_DIR/summarize.py" "$LOG_FILE" --json "$RESULTS_JSON"
status=$?
set -e
case $status in
    0) exit 0 ;;
    1) exit 1 ;;
    *) echo "0 passed, 1 failed"; exit 1 ;;
esac
