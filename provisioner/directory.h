/*
 * The directory (catalogue OOB-6, IB-9, DIR-OU): the container (OU) that holds the
 * AMT computer objects, and one computer account per device with its service
 * principal names, so that Kerberos clients can reach the device's web services.
 *
 * The directory is reached through a table of operations (struct dir_ops), so that
 * an LDAP back end can sit beside the embedded one, which keeps its objects in the
 * site database (dir_new_embedded).
 *
 * Names. A container is configured once as a path relative to a domain, such as
 * "OU=AMT" or "OU=AMT,OU=Computers"; under a domain it becomes
 * "OU=AMT,DC=contoso,DC=com". Using one relative path for every domain is what makes
 * "the same container name and path in every domain served" hold by construction;
 * dir_check_containers() tells whether the directory agrees. A path may also be
 * written in full, and then its DC part must be the device's domain.
 *
 * A device with host name pc1 in contoso.com under OU=AMT gets the account
 * "CN=pc1,OU=AMT,DC=contoso,DC=com" and these service principal names (the ports of
 * AMT's web services, by full and by short name, as Kerberos clients ask for either):
 *
 *   HTTP/pc1.contoso.com:16992   HTTP/pc1.contoso.com:16993
 *   HTTP/pc1:16992               HTTP/pc1:16993
 *
 * An SPN belongs to one account in the whole forest, so a short name can serve one
 * device only: host names are unique across the site, whatever their domain.
 *
 * Distinguished names are read strictly (a subset of RFC 4514): attribute types CN,
 * OU and DC only, in any case; one value per RDN (no '+'); values of 1 to
 * DIR_VALUE_MAX printable ASCII characters, where ',' '+' '"' '\' '<' '>' ';', a
 * leading '#' or space and a trailing space must be escaped, as "\," or as two hex
 * digits ("\2C"); no spaces around ',' or '='; a DC value is a DNS label. The
 * canonical form writes types in upper case and escapes with a backslash only
 * what must be escaped, so two spellings of one name compare equal as text (case
 * aside: directories compare these names ignoring case).
 */
#ifndef AMT_PROV_DIRECTORY_H
#define AMT_PROV_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "nsrules.h"
#include "uuid.h"

/* Characters of a DN, as written or in canonical form, without the NUL. */
#define DIR_DN_MAX 512
/* Characters of one attribute value once unescaped (AD's limit for CN and OU). */
#define DIR_VALUE_MAX 64
/* RDNs in one DN. */
#define DIR_RDN_MAX 16
/* The SPNs a computer account gets (see above). */
#define DIR_SPN_COUNT 4
/* "HTTP/" + a full DNS name + ":16993". */
#define DIR_SPN_MAX (5 + NS_NAME_MAX + 6)
/* SPNs a back end reports for one account; more are an error. */
#define DIR_ACCOUNT_SPNS_MAX 16

enum dir_rdn_type {
    DIR_RDN_CN,
    DIR_RDN_OU,
    DIR_RDN_DC,
};

struct dir_rdn {
    enum dir_rdn_type type;
    char value[DIR_VALUE_MAX + 1]; /* unescaped */
};

struct dir_dn {
    size_t n;
    struct dir_rdn rdn[DIR_RDN_MAX]; /* rdn[0] is the leftmost, the object itself */
};

/* A computer account as a back end reports it. */
struct dir_account {
    char dn[DIR_DN_MAX + 1];
    char name[NS_LABEL_MAX + 1];
    char domain[NS_NAME_MAX + 1];
    char container[DIR_DN_MAX + 1];
    char uuid[UUID_TEXT_SIZE]; /* "" for an account no AMT device owns */
    size_t n_spns;
    char spns[DIR_ACCOUNT_SPNS_MAX][DIR_SPN_MAX + 1];
};

/*
 * A back end. DNs are passed in canonical form, names and domains in lower case.
 * Each operation returns 0 or a negative code; err (errlen bytes, may be 0) takes
 * a sentence for an operator, such as a server's diagnostic.
 *   container_exists         *exists tells; an error only when the directory fails.
 *   create_container         optional (NULL): for stores the site itself manages.
 *   find_account             by device UUID; AMT_ERR_NOT_FOUND when none.
 *   find_account_by_name     by account name in a domain; AMT_ERR_NOT_FOUND.
 *   create_computer_account  makes "CN=name,container", or, when the UUID already
 *                            has an account, renames or moves that one: a device
 *                            never has two. AMT_ERR_DIR_NAME_TAKEN when the name
 *                            belongs to another account in the domain,
 *                            AMT_ERR_DIR_NO_CONTAINER when the container is gone.
 *   set_spns                 replaces the account's SPNs with these, all or none;
 *                            AMT_ERR_DIR_SPN_TAKEN when one belongs to another account.
 *   delete_account           the account and its SPNs; AMT_ERR_NOT_FOUND.
 *   free                     optional: releases ctx when the handle is freed.
 */
struct dir_ops {
    int (*container_exists)(void *ctx, const char *dn, bool *exists, char *err,
                            size_t errlen);
    int (*create_container)(void *ctx, const char *dn, char *err, size_t errlen);
    int (*find_account)(void *ctx, const char *uuid, struct dir_account *out, char *err,
                        size_t errlen);
    int (*find_account_by_name)(void *ctx, const char *name, const char *domain,
                                struct dir_account *out, char *err, size_t errlen);
    int (*create_computer_account)(void *ctx, const char *name, const char *domain,
                                   const char *container, const char *uuid, char *err,
                                   size_t errlen);
    int (*set_spns)(void *ctx, const char *account_dn, const char *const *spns, size_t n,
                    char *err, size_t errlen);
    int (*delete_account)(void *ctx, const char *account_dn, char *err, size_t errlen);
    void (*free)(void *ctx);
};

struct dir;
struct site_db;

/* A handle on a back end; ops must outlive it. */
int dir_new(const struct dir_ops *ops, void *ctx, struct dir **out);
/* The embedded store in the site database; db must outlive the handle. */
int dir_new_embedded(struct site_db *db, struct dir **out);
void dir_free(struct dir *dir);

/* Reads a DN (see above). AMT_ERR_DIR_DN with the reason in err. */
int dir_dn_parse(const char *text, struct dir_dn *out, char *err, size_t errlen);
/* The canonical text; AMT_ERR_TOO_LARGE when it does not fit size or DIR_DN_MAX. */
int dir_dn_format(const struct dir_dn *dn, char *buf, size_t size);

/*
 * The container DN of a path under a domain: "OU=AMT" and "contoso.com" give
 * "OU=AMT,DC=contoso,DC=com". The path holds one or more OU or CN RDNs, then
 * optionally DC RDNs that must spell the domain (AMT_ERR_DIR_DOMAIN otherwise).
 * AMT_ERR_DIR_DN for a malformed path, AMT_ERR_NS_NAME for a malformed domain.
 */
int dir_container_dn(const char *path, const char *domain, char *buf, size_t size,
                     char *err, size_t errlen);
/* The canonical relative part of a path: "ou=AMT,DC=contoso,DC=com" gives "OU=AMT". */
int dir_container_path(const char *path, char *buf, size_t size, char *err,
                       size_t errlen);

/*
 * The SPNs of a computer (see above), in that order; host is one DNS label,
 * domain a DNS name (AMT_ERR_NS_NAME otherwise). Written in lower case.
 */
int dir_spn_set(const char *host, const char *domain,
                char spns[DIR_SPN_COUNT][DIR_SPN_MAX + 1]);

/*
 * DIR-OU for one domain: 0 when the container exists, AMT_ERR_DIR_NO_CONTAINER with
 * "OU=AMT,DC=contoso,DC=com does not exist in the directory" in err.
 */
int dir_check_container(struct dir *dir, const char *path, const char *domain, char *err,
                        size_t errlen);
/*
 * DIR-OU for every domain the site serves: the same relative path must exist under
 * each. On AMT_ERR_DIR_NO_CONTAINER err names every container that is missing.
 */
int dir_check_containers(struct dir *dir, const char *path, const char *const *domains,
                         size_t n, char *err, size_t errlen);

/* Creates the container in a back end that allows it (AMT_ERR_INVALID_ARGUMENT). */
int dir_create_container(struct dir *dir, const char *path, const char *domain, char *err,
                         size_t errlen);

/*
 * OOB-6 / IB-9: the device's computer account "CN=host,<container>" with its SPNs.
 * Run again for the same UUID, it updates the account (renamed or moved when host,
 * domain or path changed) rather than adding one. Errors, with a sentence in err:
 * AMT_ERR_DIR_NO_CONTAINER (DIR-OU), AMT_ERR_DIR_NAME_TAKEN, AMT_ERR_DIR_SPN_TAKEN,
 * AMT_ERR_DIR_DN, AMT_ERR_DIR_DOMAIN, AMT_ERR_NS_NAME, AMT_ERR_UUID_FORMAT, or the
 * back end's. An account made before set_spns failed stays, without SPNs; running
 * again completes it. out (may be NULL) gets the account as it now is.
 */
int dir_provision_computer(struct dir *dir, const char *host, const char *domain,
                           const char *path, const char *uuid, struct dir_account *out,
                           char *err, size_t errlen);

/* The device's account, AMT_ERR_NOT_FOUND when it has none. */
int dir_find_computer(struct dir *dir, const char *uuid, struct dir_account *out,
                      char *err, size_t errlen);

/* Deletes the device's account and SPNs (unprovision); AMT_ERR_NOT_FOUND. */
int dir_remove_computer(struct dir *dir, const char *uuid, char *err, size_t errlen);

#endif
