# amtterm, the real SOL client (Debian's amtterm 1.4), against amt-sim on 16994
# (SOL-TELNET): the start of the redirection session, the logon with user name and
# password, SOL with the host's banner, a typed line echoed back, heartbeats that keep
# amtterm past its own 20 s limit of silence, its escape (^]) ending the session
# cleanly, and the events of all that in the simulator's log. amtterm runs in a
# detached tmux pane on a tmux server of this test's own.
. "$(dirname "$0")/lib.sh"

command -v amtterm >/dev/null || { echo "skip: amtterm is not installed"; exit 77; }
command -v tmux >/dev/null || { echo "skip: tmux is not installed"; exit 77; }

IP=127.0.0.76
PASSWORD='P@ssw0rd-Strong1'
EV=$T/events.jsonl
TSOCK=amt-sim-test-$$
TNAME=amtterm-$$

tm() { tmux -L "$TSOCK" "$@"; }
pane() { tm capture-pane -p -t "$TNAME" 2>/dev/null; }
pane_has() { pane | grep -qF -- "$1"; }
pane_lacks() { ! pane_has "$1"; }
# events_with TEXT [TEXT2]: how many lines of the log hold both
events_with() { grep -F -- "$1" "$EV" 2>/dev/null | grep -cF -- "${2:-$1}" || true; }
show_pane() { echo "--- amtterm's pane:"; pane | sed '/^$/d'; echo "---"; }
stop_all() { # the session by its name, the simulator by its PID
  tm kill-session -t "$TNAME" 2>/dev/null
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  PIDS=()
}
trap 'tm kill-session -t "$TNAME" 2>/dev/null' EXIT

start_bg "$AMT_SIM" --flash "$T/flash" --listen $IP --state provisioned \
  --admin-password "$PASSWORD" --tls off --sol on --events "$EV" 2>"$T/sim.log"
# the sim says how many devices it started once their listeners are open
sim_started() { grep -q '^amt-sim: 1 device' "$T/sim.log"; }
sim_started_or_gone() { sim_started || ! kill -0 "${PIDS[0]}" 2>/dev/null; }
wait_for 30 sim_started_or_gone
if ! sim_started; then
  fail "amt-sim did not start: $(head -c 400 "$T/sim.log")"
  stop_all
  finish
fi

tm new-session -d -s "$TNAME" -x 120 -y 40 -e "AMT_PASSWORD=$PASSWORD" \
  "amtterm -u admin $IP 16994; echo \"amtterm exited with \$?\"; sleep 600" ||
  { stop_all; broken "tmux could not start a session"; }

# the session starts, the password is taken, SOL runs, the host shows its banner
# (capture-pane drops trailing blanks: the prompt "sol> " shows as "sol>")
if wait_for 20 pane_has "sol>"; then pass "amtterm shows the host's prompt"; else
  fail "no prompt from the host"; show_pane; stop_all; finish
fi
pane_has "serial-over-lan redirection ok" && pass "amtterm: serial-over-lan redirection ok" ||
  fail "amtterm did not report SOL as running"
pane_has "serial console" && pane_has "Intel(R) AMT 4.0" && pass "banner names the console and AMT" ||
  fail "banner incomplete"

# a line typed in amtterm comes back from the host
tm send-keys -t "$TNAME" "hello from amtterm" Enter
wait_for 10 pane_has "you typed: hello from amtterm" && pass "a typed line is echoed back" ||
  { fail "no echo of the typed line"; show_pane; }

# amtterm gives up after 20 s without a byte from the device: the heartbeats it asked
# for (5 s) must keep it going, and it answers each one
deadline=$((SECONDS + 22))
while [ "$SECONDS" -lt "$deadline" ] && pane_lacks "amtterm exited"; do sleep 0.5; done
if pane_lacks "amtterm exited" && pane_lacks "ERROR"; then
  pass "the session outlives amtterm's 20 s limit of silence"
else
  fail "amtterm left the idle session"; show_pane
fi
tm send-keys -t "$TNAME" "still there" Enter
wait_for 10 pane_has "you typed: still there" && pass "the session still echoes after the wait" ||
  fail "no echo after the wait"
[ "$(events_with '"id":"X-sim.redirection.end"')" -eq 0 ] &&
  pass "no session end logged while amtterm is connected" || fail "the session ended early"

# ^] is amtterm's escape: it ends SOL (22/23), then the session (12)
tm send-keys -t "$TNAME" C-]
if wait_for 10 pane_has "amtterm exited"; then
  pane_has "saw ^], exiting" && pass "amtterm took its escape" || fail "no escape seen"
  pane_has "amtterm exited with 0" && pass "amtterm exited with 0" ||
    fail "amtterm: $(pane | grep 'amtterm exited')"
  pane_lacks "ERROR" && pass "amtterm reported no error" || { fail "amtterm reported an error"; show_pane; }
else
  fail "amtterm did not exit on ^]"; show_pane
fi

# what the simulator logged: one SOL session, from start to a clean end
wait_for 10 grep -q '"id":"X-sim.redirection.end"' "$EV" || fail "no session end logged"
[ "$(events_with '"id":"X-sim.redirection","result":"ok"' '"session":"sol"')" -eq 1 ] &&
  pass "X-sim.redirection ok: one SOL session on 16994" || fail "session start not logged once"
[ "$(events_with '"id":"X-sim.redirection.auth","result":"ok"' '"method":"password"')" -eq 1 ] &&
  pass "authenticated by user name and password" || fail "logon not logged"
[ "$(events_with '"id":"X-sim.redirection.sol-start","result":"ok"' '"heartbeat-ms":5000')" -eq 1 ] &&
  pass "SOL started with amtterm's 5 s heartbeat" || fail "SOL start not logged as expected"
[ "$(events_with '"id":"X-sim.redirection.keystrokes"')" -ge 2 ] &&
  pass "keystrokes counted" || fail "keystrokes not logged"
[ "$(events_with '"id":"X-sim.redirection.sol-stop"' '"cause":"client-ended"')" -eq 1 ] &&
  pass "SOL ended by the client" || fail "SOL end not logged"
[ "$(events_with '"id":"X-sim.redirection.end","result":"ok"' '"cause":"end-session"')" -eq 1 ] &&
  pass "the session ended cleanly (end-session)" ||
  fail "session end: $(grep -F '"id":"X-sim.redirection.end"' "$EV" | head -c 400)"
grep -qF -- "$PASSWORD" "$EV" && fail "the password appears in the event log"
grep -qF 'hello from amtterm' "$EV" && fail "keystrokes appear in the event log"

stop_all
finish
