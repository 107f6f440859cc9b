/*
 * The site database (SITE): the imported devices and their provisioning state, the
 * passwords set on them, in-band OTP hashes, certificates issued, and the embedded
 * directory store. One SQLite file.
 *
 * The file holds secrets at rest, so it is created with mode 0600 and an existing
 * one that others can read, or that is not a regular file of this user, is refused
 * (AMT_ERR_SITE_DB_MODE); SQLite gives its -wal and -shm files the same mode. Pages
 * freed or overwritten are zeroed (secure_delete), so a replaced password does not
 * linger in free pages.
 *
 * Every commit is durable when the call returns (WAL, synchronous=FULL). This is
 * what "never lose a password" rests on: before a password is sent to a device it
 * is written as pending (site_db_password_pending); when the device has confirmed
 * it, it becomes current (site_db_password_confirm); a device that did not take it
 * has it discarded (site_db_password_discard_pending). After a crash,
 * site_db_pending_list names the devices whose pending value is unresolved: try
 * the pending password, then the current one, and confirm or discard accordingly.
 *
 * One handle may be shared by threads: calls on it are serialised. Callbacks run
 * with nothing locked and may call back into the database. Secrets handed to
 * callers are in their buffers, which they wipe (site_credential_wipe,
 * site_db_text_free); copies made here are wiped here.
 *
 * Errors: AMT_ERR_NOT_FOUND for an unknown device, AMT_ERR_INVALID_ARGUMENT for a
 * value outside what a column accepts, AMT_ERR_SITE_DB_BUSY when another process
 * held the database past the busy timeout, AMT_ERR_SITE_DB for anything else SQLite
 * reports (SQLite's message goes to stderr, with the function's name; it never
 * holds a secret, as secrets are bound values, never SQL text).
 */
#ifndef AMT_PROV_DB_H
#define AMT_PROV_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "directory.h"
#include "nsrules.h"
#include "password.h"
#include "uuid.h"

/* The schema this program writes; older files are migrated when opened. */
#define SITE_DB_SCHEMA_VERSION 1
/* How long a call waits for another process's transaction, in milliseconds. */
#define SITE_DB_BUSY_TIMEOUT_MS 5000

#define SITE_HOST_MAX NS_LABEL_MAX
#define SITE_DOMAIN_MAX NS_NAME_MAX
/* A catalogue ID ("OOB-7.4") for the step, a kebab-case word for the reason. */
#define SITE_STEP_MAX 63
#define SITE_REASON_MAX 63
/* "X.Y.Z" with parts up to 255. */
#define SITE_AMT_VERSION_MAX 11
/* Hex SHA-256 of a one-time password, and its NUL. */
#define SITE_OTP_HASH_SIZE 65
/* A certificate PEM kept for a device. */
#define SITE_CERT_PEM_MAX (16 * 1024)

enum site_state {
    SITE_STATE_IMPORTED,
    SITE_STATE_IN_PROGRESS,
    SITE_STATE_PROVISIONED,
    SITE_STATE_FAILED,
};

/* The two passwords kept per device: AMT's remote admin account, and the MEBx. */
enum site_secret_kind {
    SITE_SECRET_ADMIN,
    SITE_SECRET_MEBX,
};

struct site_db;

/* One line of an import: names as DNS has them; ou NULL or "" for the default. */
struct site_import_row {
    const char *uuid;
    const char *host;   /* one DNS label */
    const char *domain; /* a DNS name */
    const char *ou;     /* a container path relative to the domain ("OU=AMT") */
    bool inband;
};

struct site_device {
    char uuid[UUID_TEXT_SIZE];
    char host[SITE_HOST_MAX + 1];
    char domain[SITE_DOMAIN_MAX + 1];
    char ou[DIR_DN_MAX + 1]; /* "" when the site's default container applies */
    bool inband;
    char amt_version[SITE_AMT_VERSION_MAX + 1]; /* "" until known */
    enum site_state state;
    char last_step[SITE_STEP_MAX + 1];    /* "" when none */
    char last_error[SITE_REASON_MAX + 1]; /* "" when none */
    time_t created;
    time_t updated;
};

/* A password and the one waiting for confirmation. Wipe with site_credential_wipe. */
struct site_credential {
    bool has_current;
    char user[PASSWORD_USER_MAX_LEN + 1]; /* "" for the MEBx, which has no user */
    char password[PASSWORD_MAX_LEN + 1];
    time_t confirmed;
    bool has_pending;
    char pending_user[PASSWORD_USER_MAX_LEN + 1];
    char pending_password[PASSWORD_MAX_LEN + 1];
    time_t pending_since;
};

/* A non-zero return stops the walk and is returned by the walker. */
typedef int (*site_device_fn)(void *arg, const struct site_device *dev);
typedef int (*site_pending_fn)(void *arg, const char *uuid, enum site_secret_kind kind);
typedef int (*site_domain_fn)(void *arg, const char *domain);

/* "imported", "in-progress", "provisioned", "failed"; NULL out of range. */
const char *site_state_name(enum site_state state);
/* 0 or AMT_ERR_INVALID_ARGUMENT. */
int site_state_parse(const char *name, enum site_state *out);
/* "admin", "mebx"; NULL out of range. */
const char *site_secret_kind_name(enum site_secret_kind kind);

/*
 * Opens the database at path, creating it (mode 0600) and its schema when missing,
 * migrating an older schema. Besides the codes above: AMT_ERR_SYSTEM (errno),
 * AMT_ERR_SITE_DB_MODE, AMT_ERR_SITE_DB_VERSION, AMT_ERR_SITE_DB_CORRUPT (not a site
 * database). err says which file and why.
 */
int site_db_open(const char *path, struct site_db **out, char *err, size_t errlen);
void site_db_close(struct site_db *db);
/* The version the file is at (SITE_DB_SCHEMA_VERSION once opened). */
int site_db_schema_version(struct site_db *db, int *version);

/*
 * Adds the rows in one transaction: all or none. A UUID already present with the
 * same names is left as it is; with other names it is updated while the device is
 * imported or failed, and refused (AMT_ERR_SITE_DEVICE_ACTIVE) once provisioning
 * has started. A host name held by another UUID: AMT_ERR_SITE_DUPLICATE.
 */
int site_db_import_devices(struct site_db *db, const struct site_import_row *rows,
                           size_t n);
int site_db_device_get(struct site_db *db, const char *uuid, struct site_device *out);
/* The device that holds a host name (any case); AMT_ERR_NOT_FOUND. */
int site_db_device_find_host(struct site_db *db, const char *host,
                             struct site_device *out);
/* Every device, in UUID order. */
int site_db_device_list(struct site_db *db, site_device_fn fn, void *arg);
/* Every domain devices are in, once each, in order: for DIR-OU checks. */
int site_db_domain_list(struct site_db *db, site_domain_fn fn, void *arg);
/* Forgets a device and everything kept for it. */
int site_db_device_delete(struct site_db *db, const char *uuid);

/*
 * Records where provisioning stands: step a catalogue ID ("OOB-7.4") or NULL,
 * reason a kebab-case word ("digest-exhausted") or NULL for none.
 */
int site_db_set_state(struct site_db *db, const char *uuid, enum site_state state,
                      const char *step, const char *reason);
/* "X.Y" or "X.Y.Z", as the device reported it. */
int site_db_set_amt_version(struct site_db *db, const char *uuid, const char *version);

/*
 * Writes a password as pending, durably, before it is sent to the device. user is
 * the account name (NULL for the MEBx). Passwords are 1 to PASSWORD_MAX_LEN
 * printable ASCII characters (the device judges its own policy). Refused with
 * AMT_ERR_SITE_PENDING while another one is pending: resolve that one first, or a
 * password the device may hold would be lost.
 */
int site_db_password_pending(struct site_db *db, const char *uuid,
                             enum site_secret_kind kind, const char *user,
                             const char *password);
/* The device took the pending password: it becomes current. AMT_ERR_SITE_NO_PENDING. */
int site_db_password_confirm(struct site_db *db, const char *uuid,
                             enum site_secret_kind kind);
/* The device kept its old password: the pending one goes. AMT_ERR_SITE_NO_PENDING. */
int site_db_password_discard_pending(struct site_db *db, const char *uuid,
                                     enum site_secret_kind kind);
/* Every (device, kind) with a pending password, for recovery at start. */
int site_db_pending_list(struct site_db *db, site_pending_fn fn, void *arg);
/* Both passwords of a kind; a device with none gets a zeroed out. */
int site_db_credential_get(struct site_db *db, const char *uuid,
                           enum site_secret_kind kind, struct site_credential *out);
void site_credential_wipe(struct site_credential *c);

/*
 * IB-2 / IB-3: the SHA-256 of a device's one-time password, 64 hex digits (stored in
 * lower case), replacing any earlier one. It also marks the device in-band: it has
 * an agent, so its hellos are not for out of band provisioning (IB-5).
 */
int site_db_otp_hash_set(struct site_db *db, const char *uuid, const char *sha256_hex);
/* AMT_ERR_NOT_FOUND when the device has none; created may be NULL. */
int site_db_otp_hash_get(struct site_db *db, const char *uuid,
                         char hex[SITE_OTP_HASH_SIZE], time_t *created);
int site_db_otp_hash_clear(struct site_db *db, const char *uuid);

/*
 * PKI-CERTS: keeps a certificate issued for a device (PEM, the certificate alone;
 * never its key). Serial, issuer, subject and notAfter are read from it.
 * AMT_ERR_CERT_LOAD when it is not one PEM certificate.
 */
int site_db_cert_record(struct site_db *db, const char *uuid, const char *cert_pem);

/*
 * The device as `amtprov status UUID --json` prints it: names, state, steps,
 * whether each password is set and pending, the certificates issued; with
 * show_secrets also the passwords themselves. *out is NUL-terminated; free it with
 * site_db_text_free, which wipes it.
 */
int site_db_device_json(struct site_db *db, const char *uuid, bool show_secrets,
                        char **out);
void site_db_text_free(char *text);

/*
 * The embedded directory store, for directory.c's default back end. DNs in
 * canonical form; same contracts as the matching struct dir_ops members.
 */
int site_db_dir_container_add(struct site_db *db, const char *dn);
int site_db_dir_container_exists(struct site_db *db, const char *dn, bool *exists);
int site_db_dir_account_by_uuid(struct site_db *db, const char *uuid,
                                struct dir_account *out);
int site_db_dir_account_by_name(struct site_db *db, const char *name, const char *domain,
                                struct dir_account *out);
int site_db_dir_account_put(struct site_db *db, const char *dn, const char *name,
                            const char *domain, const char *container, const char *uuid);
/* On AMT_ERR_DIR_SPN_TAKEN, taken (may be NULL) gets the SPN and its owner's DN. */
int site_db_dir_spns_set(struct site_db *db, const char *account_dn,
                         const char *const *spns, size_t n, char *taken, size_t takenlen);
int site_db_dir_account_delete(struct site_db *db, const char *dn);

#endif
