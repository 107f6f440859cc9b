# The real amtprov binary on the site subcommands: --help and --version, a bad
# configuration (exit 2 naming file and line), prereq on the sample configuration
# with the test PKI and with a 4096-bit CA chain (PKI-CA-KEYLEN), and an import
# that passes and one that fails as a whole, checked through status.
. "$(dirname "$0")/lib.sh"

[ -n "${AMTPROV:-}" ] || broken "AMTPROV is not set"
SAMPLE=$(dirname "$0")/../data/amtprov/site.ini
[ -r "$SAMPLE" ] || broken "no sample configuration at $SAMPLE"
U1=4c4c4544-0042-3510-8052-b3c04f4d3231
U2=4c4c4544-0042-3510-8052-b3c04f4d3232

# The sample with its paths moved into this test's folder and the build's PKI.
sed -e "s|^database = .*|database = $T/site.db|" \
  -e "s|^pki-dir = .*|pki-dir = $AMT_CERTS_DIR|" \
  -e "s|^events = .*|events = $T/events.jsonl|" "$SAMPLE" >"$T/good.ini"
sed -e 's|^provisioning-chain = .*|provisioning-chain = bad-ca-4096.chain.pem|' \
  -e 's|^provisioning-key = .*|provisioning-key = bad-ca-4096.key|' "$T/good.ini" >"$T/4096.ini"
sed -e 's|^hello-port = .*|hello-port = many|' "$T/good.ini" >"$T/broken.ini"
broken_line=$(grep -n '^hello-port' "$T/broken.ini" | cut -d: -f1)

expect_exit 0 "--help" -- "$AMTPROV" --help
for cmd in serve prereq import status directory discover power unprovision agent; do
  grep -q "^  $cmd" "$T/stdout" || fail "--help does not list $cmd"
done
expect_exit 0 "--version" -- "$AMTPROV" --version
grep -q '^amtprov [0-9]' "$T/stdout" && pass "version printed" || fail "--version: $(cat "$T/stdout")"
for cmd in serve prereq import status directory discover power unprovision; do
  expect_exit 0 "$cmd --help" -- "$AMTPROV" $cmd --help
done
expect_exit 2 "an unknown subcommand" -- "$AMTPROV" frobnicate
expect_exit 2 "an unknown option" -- "$AMTPROV" status --frob --config "$T/good.ini"
expect_exit 2 "no --config" -- "$AMTPROV" prereq

# a configuration that does not load: file, line and setting named
expect_exit 2 "a bad value" -- "$AMTPROV" prereq --config "$T/broken.ini"
expect_stderr "broken.ini:$broken_line:"
expect_stderr "hello-port"
expect_exit 2 "status with a bad configuration" -- "$AMTPROV" status --config "$T/broken.ini"
expect_stderr "broken.ini:$broken_line:"

# prereq
expect_exit 0 "prereq on the sample with the test PKI" -- "$AMTPROV" prereq --config "$T/good.ini"
grep -q '^fail' "$T/stdout" && fail "a check failed: $(grep '^fail' "$T/stdout")"
grep -q 'PKI-CA-KEYLEN' "$T/stdout" && pass "the report lists PKI-CA-KEYLEN" ||
  fail "report: $(head -c 400 "$T/stdout")"
expect_exit 2 "prereq with a 4096-bit CA" -- "$AMTPROV" prereq --config "$T/4096.ini"
grep -q 'PKI-CA-KEYLEN' "$T/stdout" && grep 'PKI-CA-KEYLEN' "$T/stdout" | grep -q 'fail' &&
  pass "PKI-CA-KEYLEN fails" || fail "report: $(grep KEYLEN "$T/stdout")"
expect_exit 2 "serve refuses the 4096-bit CA" -- "$AMTPROV" serve --config "$T/4096.ini"
expect_stderr "PKI-CA-KEYLEN"

# import: the container first (DIR-OU), as an administrator would make it
cat >"$T/good.csv" <<CSV
uuid,host,domain,ou
$U1,pc1,contoso.com,OU=AMT
$U2,pc2,na.contoso.com,
CSV
cat >"$T/bad.csv" <<CSV
uuid,host,domain,ou
4c4c4544-0042-3510-8052-b3c04f4d3299,pc9,contoso.com,OU=AMT
not-a-uuid,pc3,contoso.com,OU=AMT
4c4c4544-0042-3510-8052-b3c04f4d3234,pc4,northwind.com,OU=AMT
CSV
expect_exit 1 "import before the container exists" -- "$AMTPROV" import --config "$T/good.ini" "$T/good.csv"
expect_stderr "no-container"
expect_exit 0 "directory add-container" -- "$AMTPROV" directory add-container --config "$T/good.ini"
expect_exit 0 "import of a good file" -- "$AMTPROV" import --config "$T/good.ini" "$T/good.csv"
grep -q '^2 device' "$T/stdout" && pass "two devices imported" || fail "import: $(cat "$T/stdout")"
expect_exit 0 "status" -- "$AMTPROV" status --config "$T/good.ini"
grep -q "^$U1 *pc1 *contoso.com *imported" "$T/stdout" && pass "status lists pc1" ||
  fail "status: $(cat "$T/stdout")"
grep -q "^$U2 *pc2 *na.contoso.com *imported" "$T/stdout" && pass "status lists pc2" ||
  fail "status: $(cat "$T/stdout")"
expect_exit 0 "status --json" -- "$AMTPROV" status $U1 --json --config "$T/good.ini"
grep -q "\"uuid\":\"$U1\"" "$T/stdout" && pass "JSON names the device" ||
  fail "status --json: $(cat "$T/stdout")"
grep -q '"password":\|"pending_password":' "$T/stdout" &&
  fail "status --json has password fields without --show-secrets" || pass "no password fields"
[ -s "$T/stderr" ] && fail "status --json warned without --show-secrets"
expect_exit 0 "status --json --show-secrets" -- "$AMTPROV" status $U1 --json --show-secrets --config "$T/good.ini"
expect_stderr "warning"
grep -q '"password":' "$T/stdout" && pass "--show-secrets adds the password fields" ||
  fail "status --show-secrets: $(head -c 300 "$T/stdout")"
expect_exit 1 "status of an unknown device" -- "$AMTPROV" status 4c4c4544-0042-3510-8052-b3c04f4d3200 --config "$T/good.ini"

expect_exit 1 "import of a bad file" -- "$AMTPROV" import --config "$T/good.ini" "$T/bad.csv"
expect_stderr "bad.csv:3: bad-uuid"
expect_stderr "bad.csv:4: other-forest"
expect_stderr "nothing imported"
expect_exit 0 "status after the refused import" -- "$AMTPROV" status --config "$T/good.ini"
grep -q '3299' "$T/stdout" && fail "a line of the refused file was imported" ||
  pass "nothing of the refused file imported"
[ "$(grep -c 'imported$\|imported ' "$T/stdout")" -eq 2 ] && pass "still two devices" ||
  fail "status: $(cat "$T/stdout")"

# serve: a hello from an imported device passes OOB-2, one from another UUID is
# discarded; SIGTERM ends it with exit 0
HELLO_PORT=$((21000 + $$ % 1000))
sed -e "s|^hello-port = .*|hello-port = $HELLO_PORT|" "$T/good.ini" >"$T/serve.ini"
"$AMTPROV" serve --config "$T/serve.ini" >"$T/serve.out" 2>"$T/serve.err" &
SERVE=$!
PIDS+=($SERVE)
wait_for 30 grep -q 'listening for hellos' "$T/serve.err" ||
  broken "serve did not start: $(head -c 400 "$T/serve.err")"
ROOT=$(cat "$AMT_CERTS_DIR/root-ca.sha1.txt")
start_bg "$AMT_SIM" --listen 127.0.0.66 --uuid $U1 --flash "$T/sim1" --root-hash "$ROOT" \
  --domain contoso.com --provision-server 127.0.0.1:$HELLO_PORT --events "$T/sim1.jsonl"
start_bg "$AMT_SIM" --listen 127.0.0.67 --uuid 4c4c4544-0042-3510-8052-b3c04f4d3277 \
  --flash "$T/sim2" --root-hash "$ROOT" --domain contoso.com \
  --provision-server 127.0.0.1:$HELLO_PORT --events "$T/sim2.jsonl"
wait_for 30 grep -q "\"device\":\"$U1\",\"id\":\"OOB-2\",\"result\":\"ok\"" "$T/events.jsonl" &&
  pass "serve: OOB-2 ok for the imported device" || fail "no OOB-2 ok for $U1"
wait_for 30 grep -q '"id":"OOB-2","result":"discard".*unknown-uuid' "$T/events.jsonl" &&
  pass "serve: unknown UUID discarded" || fail "no OOB-2 discard unknown-uuid"
kill -TERM $SERVE
wait $SERVE
rc=$?
[ "$rc" -eq 0 ] && pass "serve exits 0 on SIGTERM" || fail "serve exited $rc on SIGTERM"

finish
