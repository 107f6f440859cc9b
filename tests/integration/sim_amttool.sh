# amt-sim against the real amttool (Debian's amtterm package, over SOAP::Lite):
# info, netinfo, powerup, powerdown, reset, powercycle on a provisioned device
# with TLS off (16992, PORT-16992), the power state changing as a machine's would.
. "$(dirname "$0")/lib.sh"

command -v amttool >/dev/null || { echo "skip: amttool is not installed (package amtterm)"; exit 77; }
perl -MSOAP::Lite -e 1 2>/dev/null || { echo "skip: SOAP::Lite is not installed (libsoap-lite-perl)"; exit 77; }
IP=127.0.0.74
EV=$T/events.jsonl
export AMT_PASSWORD='P@ssw0rd-Strong1'

start_bg "$AMT_SIM" --listen $IP --flash "$T/flash" --events "$EV" --amt-version 5.0.2 \
  --state provisioned --admin-password "$AMT_PASSWORD" --tls off --provision-server 127.0.0.1:1
wait_for 30 bash -c "exec 3<>/dev/tcp/$IP/16992" 2>/dev/null || broken "amt-sim did not start"

tool() { # COMMAND [ANSWER]: runs amttool, answering its confirmation prompt
  printf '%s\n' "${2:-y}" | timeout 60 amttool "$IP" "$1" >"$T/out" 2>&1
}
powerstate() { tool info; sed -n 's/^Powerstate: *//p' "$T/out"; }

tool info || fail "amttool info failed: $(head -c 400 "$T/out")"
grep -q '^AMT version: *5.0.2' "$T/out" && pass "info: version" || fail "info: $(cat "$T/out")"
grep -q '^Powerstate: *S0' "$T/out" && pass "info: powered on (S0)" || fail "info: power state"
grep -q 'IanaOemNumber *157' "$T/out" && pass "info: remote control capabilities" ||
  fail "info: no capabilities"

tool netinfo || fail "amttool netinfo failed"
grep -q "LocalAddress *$IP" "$T/out" && pass "netinfo: the device's address" ||
  fail "netinfo: $(head -c 600 "$T/out")"

tool powerdown && grep -q 'success' "$T/out" && pass "powerdown: success" ||
  fail "powerdown: $(cat "$T/out")"
[ "$(powerstate)" = "S5 (soft-off)" ] && pass "powered off (S5)" || fail "state after powerdown: $(powerstate)"
tool powerdown
grep -q 'invalid command' "$T/out" && pass "powerdown of a machine that is off: refused" ||
  fail "second powerdown: $(cat "$T/out")"
tool reset
grep -q 'invalid command' "$T/out" && pass "reset of a machine that is off: refused" ||
  fail "reset while off: $(cat "$T/out")"
tool powerup && grep -q 'success' "$T/out" && pass "powerup: success" || fail "powerup: $(cat "$T/out")"
[ "$(powerstate)" = "S0" ] && pass "powered on again (S0)" || fail "state after powerup: $(powerstate)"
tool reset && grep -q 'success' "$T/out" && pass "reset: success" || fail "reset: $(cat "$T/out")"
tool powercycle && grep -q 'success' "$T/out" && pass "powercycle: success" ||
  fail "powercycle: $(cat "$T/out")"
[ "$(powerstate)" = "S0" ] && pass "on after a cycle" || fail "state after powercycle: $(powerstate)"
tool powerdown n
grep -q 'canceled' "$T/out" && [ "$(powerstate)" = "S0" ] && pass "a cancelled powerdown changes nothing" ||
  fail "cancelled powerdown: $(cat "$T/out")"

# the wrong password gets nowhere
AMT_PASSWORD='Wr0ng-Passw0rd' tool info
grep -q '^AMT version: *5.0.2' "$T/out" && fail "info with a wrong password answered"
grep -q '"id":"OOB-4.4","result":"fail"' "$EV" && pass "the wrong password is logged" ||
  fail "no OOB-4.4 fail event"
grep -q 'P@ssw0rd-Strong1' "$EV" && fail "the password appears in the event log"

finish
