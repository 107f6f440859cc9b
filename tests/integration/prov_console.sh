# amtprov's console subcommands against real amt-sim processes: discovery of a
# provisioned device, one in setup and an address with nothing (PORT-16992), power
# off and on over 16992 as the simulator records it, and a port blocked through the
# control socket (PORT-BLOCKED): the operation fails and names the port.
. "$(dirname "$0")/lib.sh"

[ -n "${AMTPROV:-}" ] || broken "AMTPROV is not set"
command -v python3 >/dev/null || { echo "skip: python3 is needed to speak to the control socket"; exit 77; }
PROV_IP=127.0.0.61
SETUP_IP=127.0.0.62
EMPTY_IP=127.0.0.63
TLS_IP=127.0.0.64
PASS='P@ssw0rd-Strong1'
EV=$T/prov.jsonl
CTL=$T/control.sock
ROOT=$(cat "$AMT_CERTS_DIR/root-ca.sha1.txt")

control() { # one request line -> its reply line
  python3 - "$CTL" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
print(s.makefile().readline().strip())
PY
}
power_events() { grep -c "\"id\":\"X-sim.power\",\"result\":\"ok\".*\"action\":\"$1\"" "$EV" 2>/dev/null || true; }

start_bg "$AMT_SIM" --listen $PROV_IP --flash "$T/prov" --events "$EV" --control "$CTL" \
  --amt-version 5.0.2 --state provisioned --admin-password "$PASS" --tls off \
  --provision-server 127.0.0.1:1
start_bg "$AMT_SIM" --listen $SETUP_IP --flash "$T/setup" --events "$T/setup.jsonl" \
  --root-hash "$ROOT" --provision-server 127.0.0.1:1
start_bg "$AMT_SIM" --listen $TLS_IP --flash "$T/tls" --events "$T/tls.jsonl" \
  --amt-version 6.0.0 --state provisioned --admin-password "$PASS" --tls on \
  --provision-server 127.0.0.1:1
wait_for 30 test -S "$CTL" || broken "amt-sim did not open its control socket"
wait_for 30 curl -s -o /dev/null "http://$SETUP_IP:16992/" || broken "amt-sim in setup did not answer"
wait_for 30 curl -s -o /dev/null "http://$PROV_IP:16992/" || broken "provisioned amt-sim did not answer"

expect_exit 0 "--help" -- "$AMTPROV" power --help
grep -q 'on|off|reset|cycle' "$T/stdout" && pass "power --help names the operations" ||
  fail "power --help: $(head -c 200 "$T/stdout")"

# discovery
expect_exit 0 "discover three hosts" -- "$AMTPROV" discover --timeout 3 $PROV_IP $SETUP_IP $EMPTY_IP
grep -qx "$PROV_IP provisioned 5.0.2" "$T/stdout" && pass "provisioned device and its version" ||
  fail "discover: $(cat "$T/stdout")"
grep -qx "$SETUP_IP not-provisioned 4.0.0" "$T/stdout" && pass "device in setup" ||
  fail "discover: $(cat "$T/stdout")"
grep -qx "$EMPTY_IP not-amt" "$T/stdout" && pass "nothing listening: not AMT" ||
  fail "discover: $(cat "$T/stdout")"
expect_exit 0 "discover --json" -- "$AMTPROV" discover --json $SETUP_IP
grep -q '"state":"not-provisioned","version":"4.0.0"' "$T/stdout" && pass "JSON form" ||
  fail "discover --json: $(cat "$T/stdout")"
expect_exit 2 "an IPv6 address is refused" -- "$AMTPROV" discover ::1
expect_stderr "NET-IPV4"

# power over 16992 with the password from the environment
expect_exit 2 "power without a password" -- env -u AMT_PASSWORD "$AMTPROV" power off $PROV_IP --port 16992
expect_exit 0 "power off" -- env AMT_PASSWORD="$PASS" "$AMTPROV" power off $PROV_IP --port 16992
[ "$(power_events power-down)" -eq 1 ] && pass "the simulator powered down" ||
  fail "no X-sim.power power-down event"
grep -q '"id":"X-sim.wsman","result":"ok".*"class":"CIM_PowerManagementService".*"RequestPowerStateChange"' "$EV" &&
  pass "AMT 5 is driven over WS-Management" || fail "no RequestPowerStateChange on the device"
expect_exit 1 "power off of a computer that is off" -- env AMT_PASSWORD="$PASS" "$AMTPROV" power off $PROV_IP --port 16992
expect_stderr "refused"
expect_exit 0 "power on" -- env AMT_PASSWORD="$PASS" "$AMTPROV" power on $PROV_IP --port 16992
[ "$(power_events power-up)" -eq 1 ] && pass "the simulator powered up" ||
  fail "no X-sim.power power-up event"
grep -q "$PASS" "$EV" "$T/stdout" "$T/stderr" && fail "the password was printed or logged"
expect_exit 1 "a wrong password" -- env AMT_PASSWORD=Wr0ng-Passw0rd "$AMTPROV" power reset $PROV_IP --port 16992
expect_stderr "digest-exhausted"

# a firewall in front of 16992
[ "$(control 'FAULT 0 PORT 16992 reject')" = OK ] || broken "control socket refused the fault"
expect_exit 1 "power on a blocked port" -- env AMT_PASSWORD="$PASS" "$AMTPROV" power reset $PROV_IP --port 16992 --timeout 5
expect_stderr "port 16992 unreachable"
expect_stderr "PORT-BLOCKED"
[ "$(power_events reset)" -eq 0 ] && pass "nothing reached the device" || fail "a reset happened"
[ "$(control 'FAULT 0 PORT 16992 none')" = OK ] || broken "control socket refused to lift the fault"
expect_exit 0 "the port works again" -- env AMT_PASSWORD="$PASS" "$AMTPROV" power reset $PROV_IP --port 16992
[ "$(power_events reset)" -eq 1 ] && pass "reset reached the device" || fail "no reset event"

# over 16993: TLS with the device's certificate pinned on first use, then unprovision
wait_for 30 curl -sk -o /dev/null "https://$TLS_IP:16993/" || broken "amt-sim with TLS did not answer"
expect_exit 0 "discover over 16993" -- "$AMTPROV" discover --json $TLS_IP
grep -q '"state":"provisioned","version":"6.0.0","port":16993' "$T/stdout" &&
  pass "TLS device found on 16993" || fail "discover: $(cat "$T/stdout")"
expect_exit 2 "16993 without --ca or --insecure-pin" -- env AMT_PASSWORD="$PASS" "$AMTPROV" power off $TLS_IP
printf '%s\n' "$PASS" >"$T/pw"
expect_exit 0 "power off over TLS, password from a file" -- env -u AMT_PASSWORD "$AMTPROV" power off $TLS_IP --insecure-pin --password-file "$T/pw"
grep -q '"id":"X-sim.power","result":"ok".*"power-down"' "$T/tls.jsonl" &&
  pass "TLS device powered down" || fail "no power-down on the TLS device"
expect_exit 0 "unprovision" -- env AMT_PASSWORD="$PASS" "$AMTPROV" unprovision $TLS_IP --insecure-pin
expect_exit 0 "discover after unprovision" -- "$AMTPROV" discover $TLS_IP
grep -qx "$TLS_IP not-provisioned 6.0.0" "$T/stdout" && pass "back in setup" ||
  fail "discover: $(cat "$T/stdout")"

finish
