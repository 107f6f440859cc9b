#include "keypool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"

struct keypool {
    unsigned bits;
    EVP_PKEY **keys;
    size_t n;
    size_t cap;
};

int
keypool_new(unsigned bits, struct keypool **out)
{
    struct keypool *pool;

    if (out == NULL || bits < 1024 || bits > 8192)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((pool = calloc(1, sizeof(*pool))) == NULL)
        return AMT_ERR_ALLOC;
    pool->bits = bits;
    *out = pool;
    return 0;
}

void
keypool_free(struct keypool *pool)
{
    if (pool == NULL)
        return;
    for (size_t i = 0; i < pool->n; i++)
        EVP_PKEY_free(pool->keys[i]);
    free(pool->keys);
    free(pool);
}

static int
make_key(unsigned bits, EVP_PKEY **out)
{
    EVP_PKEY *key = EVP_RSA_gen(bits);

    if (key == NULL)
        return AMT_ERR_CRYPTO;
    *out = key;
    return 0;
}

int
keypool_fill(struct keypool *pool, size_t n)
{
    int r;

    if (pool == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (n > pool->cap) {
        EVP_PKEY **keys = realloc(pool->keys, n * sizeof(*keys));

        if (keys == NULL)
            return AMT_ERR_ALLOC;
        pool->keys = keys;
        pool->cap = n;
    }
    while (pool->n < n) {
        if ((r = make_key(pool->bits, &pool->keys[pool->n])) != 0)
            return r;
        pool->n++;
    }
    return 0;
}

static int
load_key(const char *path, EVP_PKEY **out)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *key;

    if (f == NULL)
        return errno == ENOENT ? AMT_ERR_NOT_FOUND : AMT_ERR_SYSTEM;
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL)
        return AMT_ERR_CRYPTO;
    *out = key;
    return 0;
}

/* Written under a temporary name and renamed: a killed run leaves no torn key. */
static int
save_key(const char *path, EVP_PKEY *key)
{
    char tmp[1100];
    FILE *f;
    int fd, ok;

    snprintf(tmp, sizeof(tmp), "%s.new", path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return AMT_ERR_SYSTEM;
    if ((f = fdopen(fd, "w")) == NULL) {
        close(fd);
        return AMT_ERR_SYSTEM;
    }
    ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return AMT_ERR_SYSTEM;
    }
    return 0;
}

int
keypool_fill_cached(struct keypool *pool, const char *dir, size_t n, char *errbuf,
                    size_t errlen)
{
    EVP_PKEY **keys;
    size_t have;
    int r;

    if (pool == NULL || dir == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
        return AMT_ERR_SYSTEM;
    }
    if (pool->n + n > pool->cap) {
        if ((keys = realloc(pool->keys, (pool->n + n) * sizeof(*keys))) == NULL)
            return AMT_ERR_ALLOC;
        pool->keys = keys;
        pool->cap = pool->n + n;
    }
    /* taken from the end, so the last file goes first: store in reverse */
    have = pool->n;
    for (size_t i = n; i-- > 0;) {
        char path[1024];
        EVP_PKEY *key = NULL;

        snprintf(path, sizeof(path), "%s/key-%04zu.pem", dir, i);
        r = load_key(path, &key);
        if (r == AMT_ERR_NOT_FOUND) {
            if ((r = make_key(pool->bits, &key)) == 0 && (r = save_key(path, key)) != 0)
                snprintf(errbuf, errlen, "%s: cannot save: %s", path, strerror(errno));
        } else if (r != 0) {
            snprintf(errbuf, errlen, "%s: not a private key in PEM", path);
        }
        if (r != 0) {
            EVP_PKEY_free(key);
            return r;
        }
        pool->keys[have++] = key;
        pool->n = have;
    }
    return 0;
}

int
keypool_take(struct keypool *pool, EVP_PKEY **out)
{
    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (pool != NULL && pool->n > 0) {
        *out = pool->keys[--pool->n];
        return 0;
    }
    return make_key(pool != NULL ? pool->bits : 2048, out);
}

size_t
keypool_size(const struct keypool *pool)
{
    return pool != NULL ? pool->n : 0;
}

static int
bio_to_string(BIO *bio, char **out)
{
    char *data = NULL, *s;
    long len = BIO_get_mem_data(bio, &data);

    if (len <= 0 || (s = malloc((size_t)len + 1)) == NULL)
        return len <= 0 ? AMT_ERR_CRYPTO : AMT_ERR_ALLOC;
    memcpy(s, data, (size_t)len);
    s[len] = '\0';
    *out = s;
    return 0;
}

static int
add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
        return AMT_ERR_CRYPTO;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : AMT_ERR_CRYPTO;
}

int
keypool_self_signed(EVP_PKEY *key, const char *cn, char **key_pem, char **cert_pem)
{
    X509 *cert = NULL;
    X509_NAME *name;
    BIO *kbio = NULL, *cbio = NULL;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    char *k = NULL, *c = NULL;
    int r = AMT_ERR_INTERNAL;

    if (key_pem != NULL)
        *key_pem = NULL;
    if (cert_pem != NULL)
        *cert_pem = NULL;
    if (key == NULL || cn == NULL || key_pem == NULL || cert_pem == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    r = AMT_ERR_CRYPTO;
    if ((cert = X509_new()) == NULL || !X509_set_version(cert, 2) ||
        RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    serial[0] &= 0x7f; /* a positive serial */
    if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL)
        goto out;
    if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(cert), 20L * 365 * 24 * 3600) == NULL)
        goto out;
    name = X509_get_subject_name(cert);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
                                    -1, -1, 0) ||
        !X509_set_issuer_name(cert, name) || !X509_set_pubkey(cert, key))
        goto out;
    if ((r = add_ext(cert, NID_basic_constraints, "critical,CA:FALSE")) != 0 ||
        (r = add_ext(cert, NID_key_usage, "critical,digitalSignature,keyEncipherment")) !=
            0 ||
        (r = add_ext(cert, NID_ext_key_usage, "serverAuth")) != 0)
        goto out;
    r = AMT_ERR_CRYPTO;
    if (X509_sign(cert, key, EVP_sha256()) == 0)
        goto out;
    if ((kbio = BIO_new(BIO_s_secmem())) == NULL ||
        (cbio = BIO_new(BIO_s_mem())) == NULL ||
        !PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL) ||
        !PEM_write_bio_X509(cbio, cert))
        goto out;
    if ((r = bio_to_string(kbio, &k)) != 0 || (r = bio_to_string(cbio, &c)) != 0)
        goto out;
    *key_pem = k;
    *cert_pem = c;
    k = c = NULL;
    r = 0;
out:
    if (k != NULL) {
        OPENSSL_cleanse(k, strlen(k));
        free(k);
    }
    free(c);
    BIO_free(kbio);
    BIO_free(cbio);
    BN_free(bn);
    X509_free(cert);
    return r;
}
