#!/bin/sh
# Writes the seed hellos next to this script (layout: lib/hello.h). Rerun after a
# change here and commit the output; this script is itself fed to the fuzzer and
# refused, which does no harm.
set -eu
cd "$(dirname "$0")"

# hex BYTES... : each argument two hex digits, written as raw bytes
hex() {
    for b in "$@"; do
        printf "\\$(printf '%03o' "0x$b")"
    done
}

# header FLAG VERSION COUNT: flag, version, retry count 2, UUID
# 8c3e1b2a-5d4f-4e6a-9b7c-0123456789ab in SMBIOS order, hash count
header() {
    hex "$1" 00 "$2" 00 02 00 00 00 2a 1b 3e 8c 4f 5d 6a 4e 9b 7c 01 23 45 67 89 ab "$3"
}

# hash TYPE LEN FILL: type, then LEN (decimal) bytes all FILL (hex)
hash() {
    hex "$1" "$(printf '%02x' "$2")"
    i=0
    while [ "$i" -lt "$2" ]; do
        hex "$3"
        i=$((i + 1))
    done
}

{ header 00 03 01; hex 01 14 4e b6 d5 78 49 9b 1c cf 5f 58 1e ad 56 be 3d 9b 67 44 a5 e5; } \
    >valid-sha1.bin
{ header 01 03 03; hash 01 20 11; hash 02 32 22; hash 03 48 33; } >valid-three-types.bin
header 00 03 00 >valid-no-hashes.bin
{ header 00 02 41; hex 42 43 44 31 32 33 34; } >psk.bin
{ header 00 03 02; hash 01 20 11; hash 02 32 22; } | head -c 60 >truncated.bin
{ header 00 03 02; hash 01 20 11; } >count-too-high.bin
{ header 00 03 01; hash 01 20 11; hex 00; } >trailing.bin
{ header 00 03 01; hash 04 20 11; } >bad-type.bin
