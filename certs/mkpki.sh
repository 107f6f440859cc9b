#!/bin/sh
# Makes the test PKI described in README.md from req.cnf, ca.cnf and ext.cnf.
#
#   mkpki.sh SOURCE_DIR OUTPUT_DIR [OPENSSL]
#
# Every run starts over: fresh keys, fresh CA databases. The stamp file pki.stamp is
# written last, so a run that fails half way is redone by the next build.
set -eu

# An empty OUTPUT_DIR would turn "$out/work" below into /work.
if [ $# -lt 2 ] || [ $# -gt 3 ] || [ -z "$1" ] || [ -z "$2" ]; then
    echo "usage: $0 SOURCE_DIR OUTPUT_DIR [OPENSSL]" >&2
    exit 2
fi
src=$1
out=$2
openssl=${3:-openssl}
work=$out/work

# Fixed CA validity, starting before the expired certificate's so that its chain
# was whole while it was valid; leaves count default_days from the run.
ca_start=20190101000000Z
root_end=20481231235959Z
issuing_end=20431231235959Z
# The expired certificate's validity, in the past for any clock this runs on.
expired_start=20200101000000Z
expired_end=20210101000000Z

ossl() {
    "$openssl" "$@"
}

mkdir -p "$out"
rm -f "$out/pki.stamp"
rm -rf "$work"
mkdir -p "$work"

# newkey NAME BITS: RSA key, readable by its owner only.
newkey() {
    rm -f "$out/$1.key"
    (umask 077 && ossl genpkey -quiet -algorithm RSA \
        -pkeyopt "rsa_keygen_bits:$2" -out "$out/$1.key")
    chmod 0600 "$out/$1.key"
}

# newca NAME: the database `openssl ca` keeps for one CA.
newca() {
    mkdir -p "$work/$1/issued"
    : >"$work/$1/index.txt"
    echo 1000 >"$work/$1/serial"
}

# request NAME SUBJECT: a request for NAME's key; only its key matters, the
# subject is given again when signing.
request() {
    ossl req -new -batch -config "$src/req.cnf" -key "$out/$1.key" \
        -subj "$2" -out "$work/$1.csr"
}

# sign CA NAME SUBJECT PROFILE [openssl ca options]: NAME.crt issued by CA.
sign() {
    ca=$1
    name=$2
    subject=$3
    profile=$4
    shift 4
    PKI_CA_DIR=$work/$ca PKI_CA_CERT=$out/$ca.crt PKI_CA_KEY=$out/$ca.key \
        ossl ca -batch -notext -config "$src/ca.cnf" -preserveDN -utf8 \
        -extfile "$src/ext.cnf" -extensions "$profile" \
        -in "$work/$name.csr" -subj "$subject" -out "$out/$name.crt" "$@" \
        2>"$work/$name.log" || {
        cat "$work/$name.log" >&2
        exit 1
    }
}

# root NAME SUBJECT: a self-signed root CA.
root() {
    newca "$1"
    request "$1" "$2"
    sign "$1" "$1" "$2" root_ca -selfsign -startdate "$ca_start" -enddate "$root_end"
}

# leaf CA NAME SUBJECT PROFILE [openssl ca options]: valid for default_days unless
# the options say otherwise.
leaf() {
    request "$2" "$3"
    sign "$@"
}

# chain NAME CERT...: NAME.chain.pem, the leaf first and the root last.
chain() {
    name=$1
    shift
    for c in "$@"; do
        cat "$out/$c.crt"
    done >"$out/$name.chain.pem"
}

# thumbprints NAME: NAME.sha1.txt, .sha256.txt, .sha384.txt, each one line in the
# form thumbprint_format() writes: "sha256:" and lower-case hex.
thumbprints() {
    for h in sha1 sha256 sha384; do
        fp=$(ossl x509 -in "$out/$1.crt" -noout -fingerprint "-$h")
        hex=$(printf '%s\n' "${fp#*=}" | tr -d ':' | tr 'A-F' 'a-f')
        printf '%s:%s\n' "$h" "$hex" >"$out/$1.$h.txt"
    done
}

# verify ROOT NAME [openssl verify options]: catches a mistake in the parameter
# files at build time.
verify() {
    root=$1
    name=$2
    shift 2
    ossl verify -x509_strict "$@" -CAfile "$out/$root.crt" \
        -untrusted "$out/$name.chain.pem" "$out/$name.crt" >/dev/null
}

contoso=/O=Contoso
ou="OU=Intel(R) Client Setup Certificate"
ou_lower="OU=intel(r) client setup certificate"
prov=CN=provserver.contoso.com

# Key generation is most of the run time: make the keys side by side.
pids=
newkey root-ca-4096 4096 &
pids="$pids $!"
for k in root-ca issuing-ca prov-oid prov-ou device bad-no-oid-no-ou bad-ou-case \
    bad-oid-no-server-auth bad-no-cn bad-northwind bad-evilcontoso bad-expired \
    untrusted-root-ca bad-untrusted-root bad-ca-4096; do
    newkey "$k" 2048 &
    pids="$pids $!"
done
for p in $pids; do
    wait "$p"
done

# The enterprise PKI that AMT firmware trusts.
root root-ca "$contoso/CN=Contoso Enterprise Root CA"
newca issuing-ca
request issuing-ca "$contoso/CN=Contoso Issuing CA"
sign root-ca issuing-ca "$contoso/CN=Contoso Issuing CA" issuing_ca \
    -startdate "$ca_start" -enddate "$issuing_end"

leaf issuing-ca prov-oid "$contoso/$prov" prov_oid
chain prov-oid prov-oid issuing-ca root-ca
leaf issuing-ca prov-ou "$contoso/$ou/$prov" prov_server_auth
chain prov-ou prov-ou issuing-ca root-ca
leaf issuing-ca device "$contoso/CN=amt-device.contoso.com" device
chain device device issuing-ca root-ca

# Negative material: each differs from prov-oid in one way only.
leaf issuing-ca bad-no-oid-no-ou "$contoso/$prov" prov_server_auth
leaf issuing-ca bad-ou-case "$contoso/$ou_lower/$prov" prov_server_auth
leaf issuing-ca bad-oid-no-server-auth "$contoso/$prov" prov_oid_no_server_auth
leaf issuing-ca bad-no-cn "$contoso/$ou" prov_oid
leaf issuing-ca bad-northwind "/O=Northwind Traders/CN=provserver.northwindtraders.com" \
    prov_oid
leaf issuing-ca bad-evilcontoso "$contoso/CN=provserver.evilcontoso.com" prov_oid
leaf issuing-ca bad-expired "$contoso/$prov" prov_oid \
    -startdate "$expired_start" -enddate "$expired_end"
for n in bad-no-oid-no-ou bad-ou-case bad-oid-no-server-auth bad-no-cn \
    bad-northwind bad-evilcontoso bad-expired; do
    chain "$n" "$n" issuing-ca root-ca
done

# A root no firmware trusts, and one whose key is too long for AMT.
root untrusted-root-ca "/O=Fabrikam/CN=Fabrikam Untrusted Root CA"
leaf untrusted-root-ca bad-untrusted-root "$contoso/$prov" prov_oid
chain bad-untrusted-root bad-untrusted-root untrusted-root-ca
root root-ca-4096 "$contoso/CN=Contoso Root CA 4096"
leaf root-ca-4096 bad-ca-4096 "$contoso/$prov" prov_oid
chain bad-ca-4096 bad-ca-4096 root-ca-4096

for r in root-ca untrusted-root-ca root-ca-4096; do
    thumbprints "$r"
done
cat "$out/root-ca.sha1.txt" "$out/root-ca.sha256.txt" "$out/root-ca.sha384.txt" \
    >"$out/trusted-roots.txt"

for n in prov-oid prov-ou device bad-no-oid-no-ou bad-ou-case bad-oid-no-server-auth \
    bad-no-cn bad-northwind bad-evilcontoso; do
    verify root-ca "$n"
done
# 2020-07-01, inside the expired certificate's validity.
verify root-ca bad-expired -attime 1593561600
verify untrusted-root-ca bad-untrusted-root
verify root-ca-4096 bad-ca-4096

rm -rf "$work"
date -u +%Y-%m-%dT%H:%M:%SZ >"$out/pki.stamp"
