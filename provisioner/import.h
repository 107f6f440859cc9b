/*
 * The import wizard (`amtprov import FILE.csv`): the devices the site may provision
 * out of band (OOB-2 discards hellos from any other UUID).
 *
 *   # devices of the Contoso head office
 *   uuid,host,domain,ou
 *   4c4c4544-0042-3510-8052-b3c04f4d3232,pc1,contoso.com,OU=AMT
 *   4c4c4544-0042-3510-8052-b3c04f4d3233,pc2,contoso.com,
 *   "4c4c4544-0042-3510-8052-b3c04f4d3234","pc3","sales.contoso.com"
 *
 * One device a line: UUID, host name (one DNS label), DNS domain, and optionally the
 * directory container (a path relative to the domain, or the full DN in that
 * domain) and the directory domain, when the computer's Active Directory domain
 * differs from its DNS domain (which NS-FOREST refuses as disjoint, but the file
 * may say so). An optional header line names the columns: uuid; host, hostname or
 * "host name"; domain; ou or container; "directory domain" (any case). Lines that
 * start with '#' and blank lines are skipped; a UTF-8 byte-order mark at the start
 * is skipped; lines end with LF or CR LF.
 *
 * CSV is read strictly (RFC 4180, one record per line): a field is either bare
 * (no '"' in it) or wholly in double quotes with "" standing for one quote; nothing
 * is trimmed, so "pc1, contoso.com" names the domain " contoso.com" and is refused.
 *
 * Each line must pass every check: the UUID's form; the host name and domain; the
 * NS-FOREST rule against the service point's domain and forest (workgroup,
 * other-forest, non-contiguous and disjoint refused under those names); the
 * container, which must exist in the directory in that domain (DIR-OU); a UUID or
 * host name only once in the file, and a host name not held in the database by
 * another UUID; a UUID already in the database either unchanged or not yet being
 * provisioned. Every problem is reported, then nothing is written unless none was
 * found; otherwise one transaction adds every device.
 */
#ifndef AMT_PROV_IMPORT_H
#define AMT_PROV_IMPORT_H

#include <stddef.h>

#include "nsrules.h"

/* Longest line, without its end of line. */
#define IMPORT_LINE_MAX 1024
/* Largest file and most device lines; a policy may set lower caps. */
#define IMPORT_FILE_MAX (8u * 1024 * 1024)
#define IMPORT_ROWS_MAX 100000u

struct site_db;
struct dir;

struct import_policy {
    const char *sp_domain;          /* the service point's directory domain */
    const struct ns_forest *forest; /* its forest; NULL: the domain's own tree */
    /* The site's container path ("OU=AMT") for lines that name none; NULL for none. */
    const char *default_container;
    size_t max_bytes; /* 0: IMPORT_FILE_MAX; higher values are lowered to it */
    size_t max_rows;  /* 0: IMPORT_ROWS_MAX; idem */
};

/* One problem: where, which rule, and a sentence an operator can act on. */
struct import_problem {
    const char *file;
    unsigned long line; /* 1-based; 0 for the file as a whole */
    /*
     * Kebab-case. The file: bad-policy, file-open, file-too-large, too-many-rows,
     * no-devices, database (the transaction failed). A line: line-too-long, bad-byte,
     * csv-syntax, bad-header, field-count, bad-uuid, bad-host, bad-domain,
     * workgroup, other-forest, non-contiguous, disjoint (ns_verdict_name),
     * bad-container, no-container (DIR-OU), directory (the directory failed),
     * duplicate-uuid, duplicate-host, host-taken, device-active, database.
     */
    const char *rule;
    const char *text;    /* the offending text, printable ("" when none) */
    const char *message; /* "FILE:LINE: RULE: what is wrong: \"TEXT\"" */
};

typedef void (*import_report_fn)(void *arg, const struct import_problem *problem);

/*
 * Imports path into db, checking containers in dir. report (may be NULL) is called
 * for each problem, in line order. Returns 0 with *count (may be NULL) set to the
 * devices imported; AMT_ERR_IMPORT_INVALID when any line was refused; a file-level
 * failure (AMT_ERR_SYSTEM, AMT_ERR_TOO_LARGE), also reported on line 0; or the
 * database's code when the transaction failed. Nothing is written unless 0.
 * AMT_ERR_INVALID_ARGUMENT or AMT_ERR_NS_NAME for a policy that cannot judge a line
 * (no sp_domain, or one outside the forest given).
 */
int import_csv(struct site_db *db, struct dir *dir, const char *path,
               const struct import_policy *policy, import_report_fn report, void *arg,
               size_t *count);

/* The same on text in memory; name stands for the file in messages. */
int import_csv_text(struct site_db *db, struct dir *dir, const char *name,
                    const char *text, size_t len, const struct import_policy *policy,
                    import_report_fn report, void *arg, size_t *count);

#endif
