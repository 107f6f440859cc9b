/*
 * The simulated firmware's non-volatile store: every setting of a device lives here
 * and survives a restart. A commit replaces the whole store atomically (new file,
 * fsync, rename, fsync of the folder), so a kill at any moment leaves either the old
 * or the new contents, never a mix. A store that fails its checks is refused, never
 * silently reset.
 */
#ifndef AMT_SIM_FLASH_H
#define AMT_SIM_FLASH_H

#include <stdbool.h>
#include <stddef.h>

/* Keys: 1..SIM_FLASH_KEY_MAX characters of [A-Za-z0-9._-]. */
#define SIM_FLASH_KEY_MAX 128
/* Values: any bytes but NUL, up to SIM_FLASH_VALUE_MAX (a PEM chain fits). */
#define SIM_FLASH_VALUE_MAX (64 * 1024)
#define SIM_FLASH_ENTRIES_MAX 4096
/* The file as written, checksum line included. */
#define SIM_FLASH_FILE_MAX (8 * 1024 * 1024)

#define SIM_FLASH_FILE_NAME "flash.dat"

struct sim_flash;

/*
 * Opens the store in dir, creating the folder (mode 0700) if it does not exist. A
 * folder with no store yet gives an empty store (a factory-fresh device). A store
 * that cannot be read, has a bad checksum or a malformed line fails with
 * AMT_ERR_FLASH_CORRUPT or AMT_ERR_FLASH_IO and a sentence in errbuf.
 */
int sim_flash_open(const char *dir, struct sim_flash **out, char *errbuf, size_t errlen);

void sim_flash_free(struct sim_flash *flash);

/* The folder this store lives in. */
const char *sim_flash_dir(const struct sim_flash *flash);

/* True when the store was found empty at open (no file yet). */
bool sim_flash_was_empty(const struct sim_flash *flash);

/* The value of key, or NULL. The pointer is valid until the key is next changed. */
const char *sim_flash_get(const struct sim_flash *flash, const char *key);

/* Changes (or with value NULL removes) key in memory; sim_flash_commit writes it. */
int sim_flash_set(struct sim_flash *flash, const char *key, const char *value);

/* Removes every key that starts with prefix; returns how many through *removed. */
int sim_flash_remove_prefix(struct sim_flash *flash, const char *prefix, size_t *removed);

/* Number of keys, and the key at position i in sorted order (NULL past the end). */
size_t sim_flash_count(const struct sim_flash *flash);
const char *sim_flash_key_at(const struct sim_flash *flash, size_t i);

/* True when there are changes that are not committed yet. */
bool sim_flash_dirty(const struct sim_flash *flash);

/* Writes the whole store atomically; a no-op when nothing changed. */
int sim_flash_commit(struct sim_flash *flash);

/* Forgets uncommitted changes by reading the store back from disk. */
int sim_flash_rollback(struct sim_flash *flash);

#endif
