/*
 * RSA keys made ahead of time. Making an RSA-2048 key costs a tenth of a second or
 * more of CPU, so a fleet of simulated devices draws its first-start keys from a
 * pool (filled once, or from a cache folder), and so can a CA that issues many
 * device certificates.
 */
#ifndef AMT_KEYPOOL_H
#define AMT_KEYPOOL_H

#include <stddef.h>

#include <openssl/evp.h>

struct keypool;

/* A pool that makes keys of `bits` bits; none are made until asked for. */
int keypool_new(unsigned bits, struct keypool **out);
void keypool_free(struct keypool *pool);

/* Makes keys until the pool holds n. */
int keypool_fill(struct keypool *pool, size_t n);

/*
 * Fills the pool to n keys from a cache folder of PEM files (key-0000.pem, ...),
 * making and saving (mode 0600) the ones that are missing, so that the next fleet
 * of the same size starts without making any. Keys are handed out in file order:
 * devices of one fleet never share a key. These are simulator keys, worth no more
 * than the test PKI's.
 */
int keypool_fill_cached(struct keypool *pool, const char *dir, size_t n, char *errbuf,
                        size_t errlen);

/* Hands over a key: one from the pool, or a fresh one when it is empty. */
int keypool_take(struct keypool *pool, EVP_PKEY **out);

size_t keypool_size(const struct keypool *pool);

/*
 * The firmware's first-start certificate: self-signed, subject CN=cn, valid for
 * 20 years from now, serverAuth. Key and certificate come back as PEM strings
 * (the key one is a secret: wipe it when done).
 */
int keypool_self_signed(EVP_PKEY *key, const char *cn, char **key_pem, char **cert_pem);

#endif
