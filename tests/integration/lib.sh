# Shared by the integration scripts: checks that count, a temporary folder per
# test that is kept when the test fails, and clean-up of the processes a test
# started (by PID only).
set -u

: "${AMT_TEST_TMP:=/tmp}"
mkdir -p "$AMT_TEST_TMP"
T=$(mktemp -d "$AMT_TEST_TMP/$(basename "$0" .sh).XXXXXX")
FAILED=0
PIDS=()

fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
pass() { echo "ok: $*"; }
broken() { echo "BROKEN: $*"; exit 99; }

# expect_exit CODE DESCRIPTION -- COMMAND...: runs COMMAND, checks its exit code,
# keeps its stderr in $T/stderr for further checks.
expect_exit() {
  local want=$1 what=$2 got
  shift 3
  "$@" >"$T/stdout" 2>"$T/stderr"
  got=$?
  if [ "$got" -eq "$want" ]; then pass "$what (exit $got)"; else
    fail "$what: exit $got, wanted $want; stderr: $(head -c 400 "$T/stderr")"
  fi
}

expect_stderr() {
  if grep -q -- "$1" "$T/stderr"; then pass "stderr says \"$1\""; else
    fail "stderr lacks \"$1\": $(head -c 400 "$T/stderr")"
  fi
}

# wait_for SECONDS COMMAND...: polls a condition, never a fixed delay.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

start_bg() {
  "$@" &
  PIDS+=($!)
}

finish() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [ "$FAILED" -eq 0 ]; then
    rm -rf "$T"
    echo "all checks passed"
    exit 0
  fi
  echo "$FAILED check(s) failed; logs kept in $T"
  exit 1
}
