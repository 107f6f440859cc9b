# amt-sim as a program: usage, exit codes, messages that name the setting, a
# corrupt flash store refused at start (never reset), IPv4 only (NET-IPV4).
. "$(dirname "$0")/lib.sh"

SIM=$AMT_SIM
ROOT=$(cat "$AMT_CERTS_DIR/root-ca.sha1.txt")

expect_exit 0 "--help" -- "$SIM" --help
grep -q -- "--time-scale" "$T/stdout" || fail "--help does not list --time-scale"
expect_exit 0 "--version" -- "$SIM" --version
grep -q "^amt-sim " "$T/stdout" || fail "--version does not name the program"

expect_exit 2 "unknown option" -- "$SIM" --no-such-option
expect_exit 2 "missing --flash" -- "$SIM"
expect_stderr "flash"
expect_exit 2 "IPv6 listen address refused (NET-IPV4)" -- "$SIM" --flash "$T/f" --listen ::1
expect_stderr "IPv6 is not supported"
expect_exit 2 "bad version" -- "$SIM" --flash "$T/f" --amt-version 99.0
expect_stderr "amt-version"
expect_exit 2 "bad root hash" -- "$SIM" --flash "$T/f" --root-hash sha1:abcd
expect_stderr "root-hash"
expect_exit 2 "SHA-256 root on a SHA-1 generation" -- "$SIM" --flash "$T/f" --amt-version 4.0 \
  --root-hash "$(cat "$AMT_CERTS_DIR/root-ca.sha256.txt")"
expect_stderr "SHA-1 root thumbprints only"
expect_exit 2 "password without provisioned state" -- "$SIM" --flash "$T/f" --admin-password 'P@ssw0rd1'
expect_stderr "admin-password"
expect_exit 2 "provisioned state without password" -- "$SIM" --flash "$T/f" --state provisioned
expect_stderr "admin-password"

printf 'amt-version = 4.0\nbogus = 1\n' >"$T/bad.ini"
expect_exit 2 "unknown setting in the config file" -- "$SIM" --config "$T/bad.ini" --flash "$T/f"
expect_stderr "bad.ini:2"
expect_stderr "bogus"
printf 'devices = many\n' >"$T/bad2.ini"
expect_exit 2 "bad value in the config file" -- "$SIM" --config "$T/bad2.ini" --flash "$T/f"
expect_stderr "bad2.ini:1"

# a store that fails its checksum stops the start, with the file named, and stays
mkdir -p "$T/corrupt"
"$SIM" --flash "$T/corrupt" --root-hash "$ROOT" --provision-server 127.0.0.1:1 \
  --listen 127.0.0.1 >/dev/null 2>&1 &
sim=$!
wait_for 20 test -s "$T/corrupt/flash.dat" || fail "no flash store written at first start"
kill "$sim"; wait "$sim" 2>/dev/null
printf 'X' | dd of="$T/corrupt/flash.dat" bs=1 seek=40 conv=notrunc 2>/dev/null
cp "$T/corrupt/flash.dat" "$T/corrupt.copy"
expect_exit 1 "corrupt flash refused at start" -- "$SIM" --flash "$T/corrupt" --listen 127.0.0.1
expect_stderr "checksum"
cmp -s "$T/corrupt/flash.dat" "$T/corrupt.copy" || fail "the corrupt store was changed"

finish
