# amt-sim against the real openssl s_client on 16993 in setup state: AMT's checks
# on the provisioning chain (OOB-3.4, OOB-3.5) with every certificate of the test
# PKI, accepted or refused with the reason logged; TLS 1.0 for AMT 4.0.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || { echo "skip: openssl is not installed"; exit 77; }
IP=127.0.0.72
EV=$T/events.jsonl
C=$AMT_CERTS_DIR

start_bg "$AMT_SIM" --listen $IP --flash "$T/flash" --events "$EV" \
  --root-hash "$(cat "$C/root-ca.sha1.txt")" --root-hash "$(cat "$C/root-ca-4096.sha1.txt")" \
  --domain contoso.com --provision-server 127.0.0.1:1
wait_for 30 bash -c "exec 3<>/dev/tcp/$IP/16992" 2>/dev/null || broken "amt-sim did not start"

# handshake NAME: prints the HTTP status line the device answered, or nothing
handshake() {
  printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$IP" |
    timeout 20 openssl s_client -connect "$IP:16993" -tls1 -cipher 'AES128-SHA:@SECLEVEL=0' \
      -cert "$C/$1.crt" -key "$C/$1.key" -cert_chain "$C/$1.chain.pem" -quiet \
      -verify_quiet 2>"$T/$1.err" | grep -a -m1 '^HTTP/'
}

for good in prov-oid prov-ou; do
  line=$(handshake $good)
  case "$line" in
    HTTP/*) pass "$good: session accepted ($line)";;
    *) fail "$good: refused: $(tail -3 "$T/$good.err")";;
  esac
done
[ "$(grep -c '"id":"OOB-3.5","result":"ok"' "$EV")" -ge 2 ] && pass "OOB-3.5 ok logged" ||
  fail "no OOB-3.5 ok events"

while read -r name reason; do
  line=$(handshake "$name")
  [ -z "$line" ] && pass "$name: handshake aborted" || fail "$name: got $line"
  grep -q "\"id\":\"OOB-3.5\",\"result\":\"fail\",.*\"reason\":\"$reason\"" "$EV" &&
    pass "$name: OOB-3.5 fail $reason logged" || fail "$name: no OOB-3.5 $reason event"
done <<'LIST'
bad-no-oid-no-ou no-amt-oid-or-ou
bad-ou-case ou-case-mismatch
bad-northwind cn-suffix-mismatch
bad-evilcontoso cn-suffix-mismatch
bad-expired cert-expired
bad-untrusted-root root-not-trusted
bad-ca-4096 ca-key-too-long
LIST

# AMT 4.0 speaks TLS 1.0 only: a TLS 1.2 client is refused
printf '' | timeout 20 openssl s_client -connect "$IP:16993" -tls1_2 \
  -cert "$C/prov-oid.crt" -key "$C/prov-oid.key" -cert_chain "$C/prov-oid.chain.pem" \
  >"$T/tls12.out" 2>&1
grep -q 'Cipher is (NONE)\|alert\|error' "$T/tls12.out" && pass "TLS 1.2 refused by AMT 4.0" ||
  fail "TLS 1.2 accepted by AMT 4.0"

finish
