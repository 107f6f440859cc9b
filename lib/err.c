#include "err.h"

#include <stdarg.h>
#include <stdio.h>

struct err_row {
    int code;
    const char *text;
};

static const struct err_row err_table[] = {
    {AMT_OK, "success"},
    {AMT_ERR_INTERNAL, "internal error"},
    {AMT_ERR_ALLOC, "out of memory"},
    {AMT_ERR_INVALID_ARGUMENT, "invalid argument"},
    {AMT_ERR_SYSTEM, "system call failed"},
    {AMT_ERR_TOO_LARGE, "input larger than its limit"},
    {AMT_ERR_NOT_FOUND, "not found"},
    {AMT_ERR_CRYPTO, "cryptographic library error"},
    {AMT_ERR_TIMEOUT, "timed out"},
    {AMT_ERR_EOF, "unexpected end of input"},

    {AMT_ERR_HELLO_SHORT, "hello shorter than 25 bytes"},
    {AMT_ERR_HELLO_FLAG, "hello admin-credentials flag is neither 0 nor 1"},
    {AMT_ERR_HELLO_PSK, "hello is version 2 (PSK), which is not supported"},
    {AMT_ERR_HELLO_VERSION, "hello has an unknown interface version"},
    {AMT_ERR_HELLO_HASH_COUNT, "hello hash count disagrees with its length"},
    {AMT_ERR_HELLO_HASH_TYPE, "hello hash type is not 1, 2 or 3"},
    {AMT_ERR_HELLO_HASH_LENGTH, "hello hash length does not fit its type"},
    {AMT_ERR_HELLO_TRAILING, "hello has trailing bytes after its hashes"},
    {AMT_ERR_HELLO_TOO_LONG, "hello longer than the size cap"},
    {AMT_ERR_HELLO_TOO_MANY_HASHES, "hello carries more hashes than the cap"},
    {AMT_ERR_HELLO_TRUNCATED, "hello ends inside a hash"},

    {AMT_ERR_UUID_FORMAT, "UUID is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"},

    {AMT_ERR_CERT_REFUSED, "certificate refused by policy"},
    {AMT_ERR_CERT_LOAD, "certificate could not be read"},

    {AMT_ERR_NS_UNSUPPORTED, "computer is outside the supported namespace"},
    {AMT_ERR_NS_NAME, "not a valid DNS name"},

    {AMT_ERR_DIGEST_SYNTAX, "malformed Digest header"},
    {AMT_ERR_DIGEST_NOT_DIGEST, "authentication scheme is not Digest"},
    {AMT_ERR_DIGEST_MISSING, "Digest header lacks a required parameter"},
    {AMT_ERR_DIGEST_FIELD_TOO_LONG, "Digest field longer than its limit"},
    {AMT_ERR_REALM_FORMAT, "realm is not an AMT realm"},
    {AMT_ERR_DIGEST_MISMATCH, "Digest response does not match"},
    {AMT_ERR_DIGEST_UNSUPPORTED, "Digest algorithm or qop not supported"},
    {AMT_ERR_PASSWORD_POLICY, "password does not meet the AMT password policy"},
    {AMT_ERR_USERNAME_POLICY, "user name does not meet the AMT user name policy"},

    {AMT_ERR_XML_PARSE, "XML is not well-formed"},
    {AMT_ERR_XML_DOCTYPE, "XML with a DOCTYPE is refused"},
    {AMT_ERR_XML_ENTITY, "XML entity references are refused"},
    {AMT_ERR_XML_TOO_DEEP, "XML nested deeper than the cap"},
    {AMT_ERR_XML_TOO_LARGE, "XML document larger than the cap"},
    {AMT_ERR_XML_ENCODING, "XML is not valid UTF-8"},
    {AMT_ERR_XML_VALUE, "XML element text is not of the expected form"},
    {AMT_ERR_SOAP_ENVELOPE, "not a SOAP envelope with a body"},
    {AMT_ERR_SOAP_FAULT, "SOAP fault"},
    {AMT_ERR_SOAP_MESSAGE, "SOAP body does not hold the expected method or status"},
    {AMT_ERR_WSMAN_HEADER, "WS-Management header missing or invalid"},
    {AMT_ERR_WSMAN_BODY, "WS-Management body does not fit the action"},
    {AMT_ERR_WSMAN_ACTION, "WS-Management action not supported"},

    {AMT_ERR_JSON_SYNTAX, "malformed JSON"},
    {AMT_ERR_JSON_TOO_DEEP, "JSON nested deeper than the cap"},
    {AMT_ERR_EVENT_FIELD, "event lacks a required field or has a wrong one"},
    {AMT_ERR_JSON_TOO_LARGE, "JSON document, string or container larger than its cap"},
    {AMT_ERR_JSON_UTF8, "JSON text is not valid UTF-8"},
    {AMT_ERR_JSON_DUPLICATE_KEY, "JSON object has the same key twice"},
    {AMT_ERR_JSON_TYPE, "JSON value is not of the expected type"},
    {AMT_ERR_EVENT_SECRET, "event detail key names a secret"},
    {AMT_ERR_EVENT_AGAIN, "no complete event line yet"},
    {AMT_ERR_EVENT_LINE_TOO_LONG, "event line longer than its limit"},

    {AMT_ERR_CLOCK_SCALE, "time scale must be a positive number"},
    {AMT_ERR_SCHEDULE_DONE, "schedule has no further slot"},
    {AMT_ERR_SCHEDULE_SYNTAX, "schedule is not a list of INTERVALxDURATION phases"},
    {AMT_ERR_SCHEDULE_PHASE, "schedule phase needs 0 < interval <= duration <= 30 days"},
    {AMT_ERR_SCHEDULE_TOO_MANY_PHASES, "schedule has more phases than the cap"},

    {AMT_ERR_SETTINGS_SYNTAX,
     "settings line is not a section, a key = value, or a comment"},
    {AMT_ERR_SETTINGS_UNKNOWN, "unknown setting"},
    {AMT_ERR_SETTINGS_VALUE, "invalid value for setting"},
    {AMT_ERR_SETTINGS_DUPLICATE, "setting given twice"},
    {AMT_ERR_SETTINGS_OPEN, "settings file could not be opened"},
    {AMT_ERR_SETTINGS_TOO_LARGE, "settings file or line longer than its limit"},

    {AMT_ERR_FLASH_CORRUPT, "flash store is corrupt"},
    {AMT_ERR_FLASH_IO, "flash store could not be read or written"},
    {AMT_ERR_FLASH_KEY, "flash key or value is not allowed"},
    {AMT_ERR_FLASH_FULL, "flash store is full"},

    {AMT_ERR_NET_IPV6, "IPv6 is not supported: out of band management uses IPv4 only"},
    {AMT_ERR_NET_ADDRESS, "listen address is not an IPv4 address"},
    {AMT_ERR_NET_LISTEN, "could not listen on the device's address and port"},
    {AMT_ERR_NET_DUPLICATE, "device already has its listeners"},
    {AMT_ERR_NET_TLS_CONTEXT,
     "TLS context could not be made from the device's key and certificate"},
    {AMT_ERR_NET_HTTP, "HTTP server could not be started"},

    {AMT_ERR_SITE_DB, "site database error"},
    {AMT_ERR_SITE_DB_BUSY, "site database is locked by another process"},
    {AMT_ERR_SITE_DB_CORRUPT, "site database is damaged or not a site database"},
    {AMT_ERR_SITE_DB_VERSION, "site database schema is newer than this program"},
    {AMT_ERR_SITE_DB_MODE,
     "site database must be a regular file of this user that only its owner can read"},
    {AMT_ERR_SITE_DUPLICATE, "device UUID or host name is already in the site database"},
    {AMT_ERR_SITE_DEVICE_ACTIVE,
     "device is being or has been provisioned under other names: unprovision it first"},
    {AMT_ERR_SITE_PENDING, "device already has a password waiting for confirmation"},
    {AMT_ERR_SITE_NO_PENDING, "device has no password waiting for confirmation"},
    {AMT_ERR_DIR_DN, "not a valid directory distinguished name"},
    {AMT_ERR_DIR_NO_CONTAINER, "directory container (OU) does not exist"},
    {AMT_ERR_DIR_DOMAIN, "directory container is not in the computer's domain"},
    {AMT_ERR_DIR_NAME_TAKEN, "computer account name belongs to another device"},
    {AMT_ERR_DIR_SPN_TAKEN, "service principal name belongs to another account"},
    {AMT_ERR_IMPORT_INVALID, "import file has invalid lines: nothing was imported"},
    {AMT_ERR_CA_LOAD, "issuing CA certificate, key or chain could not be read"},
    {AMT_ERR_CA_KEY_MISMATCH, "issuing CA key does not match its certificate"},
    {AMT_ERR_CA_NOT_CA, "issuing CA certificate is not a CA certificate"},
    {AMT_ERR_CA_CHAIN, "issuing CA chain does not verify up to a root"},
    {AMT_ERR_CA_VERIFY, "device certificate does not verify against the issuing CA"},
    {AMT_ERR_CA_HOST_MISMATCH, "device certificate is not for the expected host name"},

    {AMT_ERR_CLIENT_UNREACHABLE,
     "AMT port unreachable: connection refused, reset or never answered"},
    {AMT_ERR_CLIENT_TLS, "TLS handshake with the device failed"},
    {AMT_ERR_CLIENT_CERT_CHANGED,
     "device presented another certificate than the one pinned for the session"},
    {AMT_ERR_CLIENT_DIGEST_EXHAUSTED,
     "device accepted none of the configured credentials"},
    {AMT_ERR_CLIENT_HTTP, "device answered with an unexpected HTTP status"},
    {AMT_ERR_CLIENT_REPLY, "device reply is malformed or larger than its cap"},
    {AMT_ERR_CLIENT_NO_IPV4, "host name has no IPv4 address"},
    {AMT_ERR_CLIENT_TRANSFER, "connection to the device failed during the exchange"},
    {AMT_ERR_CLIENT_CURL, "libcurl refused a transfer setting"},

    {AMT_ERR_SP_PREREQ, "configuration breaks a prerequisite rule of the catalogue"},
    {AMT_ERR_SP_LISTEN, "could not listen on the service point's hello address and port"},

    {AMT_ERR_ENGINE_STEP, "a provisioning step failed on the device"},
    {AMT_ERR_ENGINE_VERSION, "AMT version outside the configured range"},
    {AMT_ERR_ENGINE_IN_FLIGHT, "device is being provisioned already"},
};

const char *
amt_strerror(int err)
{
    for (unsigned i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
        if (err_table[i].code == err)
            return err_table[i].text;
    return "unknown error";
}

void
amt_set_error(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (buf == NULL || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}
