/*
 * RSA-2048 keys made ahead of time. Making one costs hundreds of milliseconds of
 * CPU, so a fleet of simulated devices draws its first-start keys from a pool that
 * is filled once (and can be filled in the background between devices' starts).
 */
#ifndef AMT_SIM_KEYPOOL_H
#define AMT_SIM_KEYPOOL_H

#include <stddef.h>

#include <openssl/evp.h>

struct sim_keypool;

/* A pool that makes keys of `bits` bits; none are made until asked for. */
int sim_keypool_new(unsigned bits, struct sim_keypool **out);
void sim_keypool_free(struct sim_keypool *pool);

/* Makes keys until the pool holds n. */
int sim_keypool_fill(struct sim_keypool *pool, size_t n);

/*
 * Fills the pool to n keys from a cache folder of PEM files (key-0000.pem, ...),
 * making and saving (mode 0600) the ones that are missing, so that the next fleet
 * of the same size starts without making any. Keys are handed out in file order:
 * devices of one fleet never share a key. These are simulator keys, worth no more
 * than the test PKI's.
 */
int sim_keypool_fill_cached(struct sim_keypool *pool, const char *dir, size_t n,
                            char *errbuf, size_t errlen);

/* Hands over a key: one from the pool, or a fresh one when it is empty. */
int sim_keypool_take(struct sim_keypool *pool, EVP_PKEY **out);

size_t sim_keypool_size(const struct sim_keypool *pool);

/*
 * The firmware's first-start certificate: self-signed, subject CN=cn, valid for
 * 20 years from now, serverAuth. Key and certificate come back as PEM strings
 * (the key one is a secret: wipe it when done).
 */
int sim_make_self_signed(EVP_PKEY *key, const char *cn, char **key_pem, char **cert_pem);

#endif
