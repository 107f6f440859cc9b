/*
 * AMT account passwords and user names: the firmware's policy, and strong random
 * passwords that always meet it (catalogue OOB-7.4).
 *
 * Password policy: 8 to 32 characters, each printable ASCII (0x20 to 0x7e; the space
 * is printable, so it is allowed and counts as a symbol), none of ':' ',' '"'; at
 * least one digit, one lower-case letter, one upper-case letter and one symbol, where
 * a symbol is any allowed character that is neither a letter, a digit nor '_'.
 *
 * User name policy: 1 to 16 characters, each printable ASCII, no ':', not starting
 * with "$$" (the firmware keeps those names for itself).
 */
#ifndef AMT_PASSWORD_H
#define AMT_PASSWORD_H

#include <stddef.h>

#define PASSWORD_MIN_LEN 8
#define PASSWORD_MAX_LEN 32
#define PASSWORD_DEFAULT_LEN 16
#define PASSWORD_USER_MAX_LEN 16

/* Which rule a password broke; the first one found, in this order. */
enum password_rule {
    PASSWORD_OK = 0,
    PASSWORD_TOO_SHORT,
    PASSWORD_TOO_LONG,
    PASSWORD_NON_PRINTABLE,
    PASSWORD_FORBIDDEN_CHAR,
    PASSWORD_NO_DIGIT,
    PASSWORD_NO_LOWER,
    PASSWORD_NO_UPPER,
    PASSWORD_NO_SYMBOL,
};

/* Which rule a user name broke; the first one found, in this order. */
enum password_user_rule {
    PASSWORD_USER_OK = 0,
    PASSWORD_USER_EMPTY,
    PASSWORD_USER_TOO_LONG,
    PASSWORD_USER_NON_PRINTABLE,
    PASSWORD_USER_FORBIDDEN_CHAR,
    PASSWORD_USER_RESERVED,
};

/*
 * Kebab-case: "ok", "too-short", "too-long", "non-printable", "forbidden-char",
 * "no-digit", "no-lower", "no-upper", "no-symbol"; "unknown" otherwise.
 */
const char *password_rule_name(int rule);

/* "ok", "empty", "too-long", "non-printable", "forbidden-char", "reserved"; "unknown". */
const char *password_user_rule_name(int rule);

/*
 * 0 when the password meets the policy, AMT_ERR_PASSWORD_POLICY otherwise (rule, when
 * not NULL, says why), AMT_ERR_INVALID_ARGUMENT for NULL.
 */
int password_check(const char *password, enum password_rule *rule);

/* 0, AMT_ERR_USERNAME_POLICY (rule says why) or AMT_ERR_INVALID_ARGUMENT. */
int password_check_user(const char *user, enum password_user_rule *rule);

/*
 * Writes a random password of len characters (0 means PASSWORD_DEFAULT_LEN) and its
 * NUL into buf. Every class is present; letters, digits and symbols other than the
 * space are drawn uniformly, then the order is shuffled uniformly. Returns 0,
 * AMT_ERR_INVALID_ARGUMENT for a length outside 8..32, AMT_ERR_TOO_LARGE when size is
 * below len + 1, AMT_ERR_CRYPTO when the random generator fails (buf is then wiped).
 */
int password_generate(char *buf, size_t size, size_t len);

/* Overwrites len bytes of buf in a way the compiler may not drop; NULL is fine. */
void password_wipe(char *buf, size_t len);

#endif
