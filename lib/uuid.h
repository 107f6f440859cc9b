/*
 * Device UUIDs. The bytes are kept in the printed (RFC 4122 text) order; SMBIOS,
 * and so the hello, stores the first three groups little-endian, so convert at
 * the wire and nowhere else.
 */
#ifndef AMT_UUID_H
#define AMT_UUID_H

#include <stdbool.h>

struct amt_uuid {
    unsigned char b[16];
};

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" and its NUL. */
#define UUID_TEXT_SIZE 37

/*
 * Reads exactly the 36-character hyphenated form, hex digits in either case; no
 * braces, no "urn:uuid:", no surrounding space (AMT_ERR_UUID_FORMAT otherwise).
 */
int uuid_parse(const char *text, struct amt_uuid *out);

/* Writes the lower-case hyphenated form into buf and returns buf. */
char *uuid_format(const struct amt_uuid *u, char buf[static UUID_TEXT_SIZE]);

/* Printed order to SMBIOS order and back (the same swap both ways). */
void uuid_to_smbios(const struct amt_uuid *u, unsigned char smbios[static 16]);
void uuid_from_smbios(const unsigned char smbios[static 16], struct amt_uuid *out);

bool uuid_equal(const struct amt_uuid *a, const struct amt_uuid *b);

/* A random version-4 UUID, for fleets of simulated devices (AMT_ERR_CRYPTO). */
int uuid_random(struct amt_uuid *out);

#endif
