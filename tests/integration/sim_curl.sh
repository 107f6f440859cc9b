# amt-sim against the real curl: discovery on 16992 (PORT-16992), the 401 exchange
# (OOB-4.1 .. OOB-4.4), a wrong password, the CVE-2017-5689 empty and prefix
# responses, lockout and its end.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }
IP=127.0.0.71
URL=http://$IP:16992
EV=$T/events.jsonl
ROOT=$(cat "$AMT_CERTS_DIR/root-ca.sha1.txt")
CALL=$T/call.xml
cat >"$CALL" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetCoreVersion xmlns="http://schemas.intel.com/platform/client/SecurityAdministration/2004/01"/></soap:Body></soap:Envelope>
XML
post() { # USER:PASS -> HTTP status
  curl -s -o "$T/body" -w '%{http_code}' --digest -u "$1" -H 'Content-Type: text/xml' \
    -H 'SOAPAction: "http://schemas.intel.com/platform/client/SecurityAdministration/2004/01#GetCoreVersion"' \
    --data-binary @"$CALL" "$URL/SecurityAdministrationService"
}
events_with() { grep -c -- "$1" "$EV" 2>/dev/null || true; }

start_bg "$AMT_SIM" --listen $IP --flash "$T/flash" --events "$EV" --root-hash "$ROOT" \
  --domain contoso.com --provision-server 127.0.0.1:1 --lockout-failures 5 --lockout-seconds 3
wait_for 30 curl -s -o /dev/null "$URL/" || broken "amt-sim did not answer on $URL"

# discovery: version and state without credentials
curl -s -D "$T/headers" -o "$T/body" "$URL/"
grep -qi '^Server: Intel(R) Active Management Technology 4.0.0' "$T/headers" &&
  pass "PORT-16992: Server header names the version" || fail "no AMT Server header"
grep -q 'not provisioned' "$T/body" && pass "PORT-16992: discovery says not provisioned" ||
  fail "discovery page does not say the state"

# the challenge, then the factory credentials
code=$(curl -s -o /dev/null -D "$T/h401" -w '%{http_code}' --data-binary @"$CALL" \
  -H 'Content-Type: text/xml' "$URL/SecurityAdministrationService")
[ "$code" = 401 ] && pass "OOB-4.2: first request is challenged" || fail "first request got $code"
grep -qi 'WWW-Authenticate: Digest realm="Intel(R) AMT (ID:' "$T/h401" &&
  pass "legacy realm form for AMT 4.0" || fail "challenge: $(grep -i authenticate "$T/h401")"
code=$(post admin:admin)
[ "$code" = 200 ] && pass "OOB-4.4: factory admin/admin accepted" || fail "admin/admin got $code"
grep -q '<StatusCode>0</StatusCode>' "$T/body" && pass "SOAP answer, status first" ||
  fail "body: $(head -c 300 "$T/body")"
[ "$(events_with '"id":"OOB-4.4","result":"ok"')" -ge 1 ] && pass "OOB-4.4 ok logged" ||
  fail "no OOB-4.4 ok event"

# a wrong password is refused and logged with the user name, never the password
code=$(post admin:Wr0ng-Passw0rd)
[ "$code" = 401 ] && pass "wrong password refused" || fail "wrong password got $code"
grep -q 'Wr0ng-Passw0rd' "$EV" && fail "the password appears in the event log"
[ "$(events_with '"reason":"wrong-password"')" -ge 1 ] && pass "wrong-password logged" ||
  fail "no wrong-password event"

# CVE-2017-5689: an empty response and a prefix of the right one
challenge=$(grep -i '^WWW-Authenticate' "$T/h401" | tr -d '\r')
realm=$(printf '%s' "$challenge" | sed -n 's/.*realm="\([^"]*\)".*/\1/p')
nonce=$(printf '%s' "$challenge" | sed -n 's/.*nonce="\([^"]*\)".*/\1/p')
uri=/SecurityAdministrationService
send_auth() {
  curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/xml' --data-binary @"$CALL" \
    -H "Authorization: Digest username=\"admin\", realm=\"$realm\", nonce=\"$nonce\", uri=\"$uri\", response=\"$1\", qop=auth, nc=00000001, cnonce=\"0a4f113b\"" \
    "$URL$uri"
}
code=$(send_auth "")
[ "$code" = 401 ] && pass "empty response refused" || fail "empty response got $code"
[ "$(events_with '"reason":"empty-response"')" -ge 1 ] && pass "empty-response logged" ||
  fail "no empty-response event"
ha1=$(printf 'admin:%s:admin' "$realm" | md5sum | cut -d' ' -f1)
ha2=$(printf 'POST:%s' "$uri" | md5sum | cut -d' ' -f1)
right=$(printf '%s:%s:00000001:0a4f113b:auth:%s' "$ha1" "$nonce" "$ha2" | md5sum | cut -d' ' -f1)
code=$(send_auth "${right:0:16}")
[ "$code" = 401 ] && pass "prefix response refused" || fail "prefix response got $code"
[ "$(events_with '"reason":"prefix-response"')" -ge 1 ] && pass "prefix-response logged" ||
  fail "no prefix-response event"

# a success resets the failure count: the three failures so far do not lock
code=$(post admin:admin)
[ "$code" = 200 ] && pass "not locked out after three failures and a success" ||
  fail "right password after three failures got $code"

# lockout after the configured failures (5), then its end
for i in 1 2 3 4 5; do post admin:Wr0ng-Passw0rd >/dev/null; done
code=$(post admin:admin)
[ "$code" = 401 ] && pass "locked out: even the right password is refused" ||
  fail "during lockout the right password got $code"
[ "$(events_with '"reason":"locked-out"')" -ge 1 ] && pass "locked-out logged" ||
  fail "no locked-out event"
right_accepted() { [ "$(post admin:admin)" = 200 ]; }
wait_for 15 right_accepted && pass "lockout ends" || fail "lockout never ended"

finish
