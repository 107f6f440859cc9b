/*
 * One error idiom for the whole project: functions return 0 on success or one of
 * these negative codes, and amt_strerror() turns a code into a sentence.
 * Each module owns one block; add a code to your block and to err.c together.
 */
#ifndef AMT_ERR_H
#define AMT_ERR_H

#include <stddef.h>

enum amt_err {
    AMT_OK = 0,

    /* general */
    AMT_ERR_INTERNAL = -1,
    AMT_ERR_ALLOC = -2,
    AMT_ERR_INVALID_ARGUMENT = -3,
    AMT_ERR_SYSTEM = -4, /* see errno */
    AMT_ERR_TOO_LARGE = -5,
    AMT_ERR_NOT_FOUND = -6,
    AMT_ERR_CRYPTO = -7,
    AMT_ERR_TIMEOUT = -8,
    AMT_ERR_EOF = -9,

    /* hello codec */
    AMT_ERR_HELLO_SHORT = -100,
    AMT_ERR_HELLO_FLAG = -101,
    AMT_ERR_HELLO_PSK = -102,
    AMT_ERR_HELLO_VERSION = -103,
    AMT_ERR_HELLO_HASH_COUNT = -104,
    AMT_ERR_HELLO_HASH_TYPE = -105,
    AMT_ERR_HELLO_HASH_LENGTH = -106,
    AMT_ERR_HELLO_TRAILING = -107,
    AMT_ERR_HELLO_TOO_LONG = -108,
    AMT_ERR_HELLO_TOO_MANY_HASHES = -109,
    AMT_ERR_HELLO_TRUNCATED = -110,

    /* UUID */
    AMT_ERR_UUID_FORMAT = -150,

    /* certificate policy (the reason code says which check failed) */
    AMT_ERR_CERT_REFUSED = -200,
    AMT_ERR_CERT_LOAD = -201,

    /* namespace rules */
    AMT_ERR_NS_UNSUPPORTED = -250,
    AMT_ERR_NS_NAME = -251,

    /* digest glue and passwords */
    AMT_ERR_DIGEST_SYNTAX = -300,
    AMT_ERR_DIGEST_NOT_DIGEST = -301,
    AMT_ERR_DIGEST_MISSING = -302,
    AMT_ERR_DIGEST_FIELD_TOO_LONG = -303,
    AMT_ERR_REALM_FORMAT = -304,
    AMT_ERR_DIGEST_MISMATCH = -305,
    AMT_ERR_DIGEST_UNSUPPORTED = -306,
    AMT_ERR_PASSWORD_POLICY = -310,
    AMT_ERR_USERNAME_POLICY = -311,

    /* XML, SOAP and WS-Management */
    AMT_ERR_XML_PARSE = -400,
    AMT_ERR_XML_DOCTYPE = -401,
    AMT_ERR_XML_ENTITY = -402,
    AMT_ERR_XML_TOO_DEEP = -403,
    AMT_ERR_XML_TOO_LARGE = -404,
    AMT_ERR_XML_ENCODING = -405,
    AMT_ERR_XML_VALUE = -406,
    AMT_ERR_SOAP_ENVELOPE = -410,
    AMT_ERR_SOAP_FAULT = -411,
    AMT_ERR_SOAP_MESSAGE = -412,
    AMT_ERR_WSMAN_HEADER = -420,
    AMT_ERR_WSMAN_BODY = -421,
    AMT_ERR_WSMAN_ACTION = -422,

    /* JSON and the event log */
    AMT_ERR_JSON_SYNTAX = -500,
    AMT_ERR_JSON_TOO_DEEP = -501,
    AMT_ERR_EVENT_FIELD = -502,
    AMT_ERR_JSON_TOO_LARGE = -503,
    AMT_ERR_JSON_UTF8 = -504,
    AMT_ERR_JSON_DUPLICATE_KEY = -505,
    AMT_ERR_JSON_TYPE = -506,
    AMT_ERR_EVENT_SECRET = -507,
    AMT_ERR_EVENT_AGAIN = -508, /* not a failure: the log may still grow */
    AMT_ERR_EVENT_LINE_TOO_LONG = -509,

    /* clock and schedule */
    AMT_ERR_CLOCK_SCALE = -550,
    AMT_ERR_SCHEDULE_DONE = -551,
    AMT_ERR_SCHEDULE_SYNTAX = -552,
    AMT_ERR_SCHEDULE_PHASE = -553,
    AMT_ERR_SCHEDULE_TOO_MANY_PHASES = -554,

    /* settings */
    AMT_ERR_SETTINGS_SYNTAX = -600,
    AMT_ERR_SETTINGS_UNKNOWN = -601,
    AMT_ERR_SETTINGS_VALUE = -602,
    AMT_ERR_SETTINGS_DUPLICATE = -603,
    AMT_ERR_SETTINGS_OPEN = -604,
    AMT_ERR_SETTINGS_TOO_LARGE = -605,

    /* simulator flash store */
    AMT_ERR_FLASH_CORRUPT = -700,
    AMT_ERR_FLASH_IO = -701,
    AMT_ERR_FLASH_KEY = -702,
    AMT_ERR_FLASH_FULL = -703,

    /* simulator network */
    AMT_ERR_NET_IPV6 = -800,
    AMT_ERR_NET_ADDRESS = -801,
    AMT_ERR_NET_LISTEN = -802, /* see errno */
    AMT_ERR_NET_DUPLICATE = -803,
    AMT_ERR_NET_TLS_CONTEXT = -804,
    AMT_ERR_NET_HTTP = -805,

    /* provisioner site: database, directory, import, issuing CA */
    AMT_ERR_SITE_DB = -1100, /* SQLite failed; stderr says how */
    AMT_ERR_SITE_DB_BUSY = -1101,
    AMT_ERR_SITE_DB_CORRUPT = -1102,
    AMT_ERR_SITE_DB_VERSION = -1103,
    AMT_ERR_SITE_DB_MODE = -1104,
    AMT_ERR_SITE_DUPLICATE = -1105,
    AMT_ERR_SITE_DEVICE_ACTIVE = -1106,
    AMT_ERR_SITE_PENDING = -1107,
    AMT_ERR_SITE_NO_PENDING = -1108,
    AMT_ERR_DIR_DN = -1120,
    AMT_ERR_DIR_NO_CONTAINER = -1121,
    AMT_ERR_DIR_DOMAIN = -1122,
    AMT_ERR_DIR_NAME_TAKEN = -1123,
    AMT_ERR_DIR_SPN_TAKEN = -1124,
    AMT_ERR_IMPORT_INVALID = -1140,
    AMT_ERR_CA_LOAD = -1160,
    AMT_ERR_CA_KEY_MISMATCH = -1161,
    AMT_ERR_CA_NOT_CA = -1162,
    AMT_ERR_CA_CHAIN = -1163,
    AMT_ERR_CA_VERIFY = -1164,
    AMT_ERR_CA_HOST_MISMATCH = -1165,

    /* provisioner AMT client (the SP's side of TLS, digest, SOAP, WS-Man) */
    AMT_ERR_CLIENT_UNREACHABLE = -1300, /* refused, reset or no answer on the port */
    AMT_ERR_CLIENT_TLS = -1301,
    AMT_ERR_CLIENT_CERT_CHANGED = -1302,
    AMT_ERR_CLIENT_DIGEST_EXHAUSTED = -1303,
    AMT_ERR_CLIENT_HTTP = -1304,
    AMT_ERR_CLIENT_REPLY = -1305,
    AMT_ERR_CLIENT_NO_IPV4 = -1306,
    AMT_ERR_CLIENT_TRANSFER = -1307,
    AMT_ERR_CLIENT_CURL = -1308,

    /* provisioner service point: configuration checks and the hello listener */
    AMT_ERR_SP_PREREQ = -1200, /* a seed rule is broken; the report says which */
    AMT_ERR_SP_LISTEN = -1201, /* see errno */

    /* provisioner engine: one device's provisioning */
    AMT_ERR_ENGINE_STEP = -1400,      /* a step failed; the event and database say why */
    AMT_ERR_ENGINE_VERSION = -1401,   /* AMT-VERSION: outside the configured range */
    AMT_ERR_ENGINE_IN_FLIGHT = -1402, /* the device is being provisioned already */
};

/* Marks a printf-like function so that its callers' formats are checked. */
#define AMT_PRINTF(fmt_index, first_arg)                                                 \
    __attribute__((format(printf, fmt_index, first_arg)))

/* Writes a message into a caller's error buffer; NULL or an empty buffer is fine. */
void amt_set_error(char *buf, size_t len, const char *fmt, ...) AMT_PRINTF(3, 4);

/* A sentence for any code (never NULL; unknown codes get a generic sentence). */
const char *amt_strerror(int err);

#endif
