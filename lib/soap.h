/*
 * SOAP 1.1 as AMT's phase 1 interface speaks it: one method element in the Body,
 * in the service's namespace; the reply <MethodResponse> starts with StatusCode,
 * then the output parameters in a fixed order. Also the envelope check shared with
 * WS-Management (SOAP 1.2).
 *
 *   POST /SecurityAdministrationService
 *   SOAPAction: "<service namespace>#GetCoreVersion"
 */
#ifndef AMT_SOAP_H
#define AMT_SOAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#define SOAP11_ENV_NS "http://schemas.xmlsoap.org/soap/envelope/"
#define SOAP12_ENV_NS "http://www.w3.org/2003/05/soap-envelope"
#define SOAP_AMT_NS_PREFIX "http://schemas.intel.com/platform/client/"
#define SOAP_AMT_NS_VERSION "2004/01"

/* Status codes AMT puts first in every reply. */
enum soap_status {
    SOAP_STATUS_SUCCESS = 0x0,
    SOAP_STATUS_INTERNAL_ERROR = 0x1,
    SOAP_STATUS_NOT_PERMITTED = 0x10,
    SOAP_STATUS_INVALID_PROVISIONING_STATE = 0x20,
    SOAP_STATUS_INVALID_PARAMETER = 0x24,
    SOAP_STATUS_INVALID_PASSWORD = 0x806,
    SOAP_STATUS_INVALID_CERT = 0x80f,
    SOAP_STATUS_UNSUPPORTED = 0x812,
    SOAP_STATUS_INVALID_CREDENTIALS = 0x815,
    SOAP_STATUS_INVALID_NAME = 0xc,
    SOAP_STATUS_MAX_LIMIT_REACHED = 0x17,
    SOAP_STATUS_INVALID_IP_ADDRESS = 0x1b,
    SOAP_STATUS_INVALID_DOMAIN_NAME = 0x1c,
    SOAP_STATUS_INVALID_NETMASK = 0x25,
    SOAP_STATUS_UNSUPPORTED_OEM_NUMBER = 0x801,
    SOAP_STATUS_INVALID_COMMAND = 0x803,
    SOAP_STATUS_INVALID_SPECIAL_COMMAND = 0x804,
    SOAP_STATUS_INVALID_HANDLE = 0x805,
    SOAP_STATUS_INVALID_REALM = 0x807,
    SOAP_STATUS_DATA_MISSING = 0x809,
    SOAP_STATUS_DUPLICATE = 0x80a,
    SOAP_STATUS_INVALID_KEY = 0x80e,
    SOAP_STATUS_CERT_KEY_NOT_MATCH = 0x810,
};

/* "SUCCESS", "NOT_PERMITTED", ...; "UNKNOWN" for a code not listed above. */
const char *soap_status_name(uint32_t status);

/* SOAP 1.1 fault codes (the local part of faultcode, in the envelope namespace). */
enum soap_fault_code {
    SOAP_FAULT_NONE = 0,
    SOAP_FAULT_VERSION_MISMATCH,
    SOAP_FAULT_MUST_UNDERSTAND,
    SOAP_FAULT_CLIENT,
    SOAP_FAULT_SERVER,
    SOAP_FAULT_OTHER, /* any other faultcode; the text is in soap_reply.faultcode */
};

/* "<SOAP_AMT_NS_PREFIX><service>/<version>"; version NULL means SOAP_AMT_NS_VERSION. */
int soap_service_ns(const char *service, const char *version, char *buf, size_t size);
/* The endpoint path "/<service>Service". */
int soap_service_path(const char *service, char *buf, size_t size);
/* The SOAPAction header value, quotes included: "\"<ns>#<method>\"". */
int soap_action(const char *ns, const char *method, char *buf, size_t size);

/*
 * Checks that the root is an Envelope in env_ns holding an optional Header and then
 * a Body, and hands both out (header NULL when absent; either pointer may be NULL).
 * AMT_ERR_SOAP_ENVELOPE otherwise.
 */
int soap_envelope(xmlDocPtr doc, const char *env_ns, xmlNodePtr *header,
                  xmlNodePtr *body);

/* A SOAP 1.1 message under construction. */
struct soap_msg;

/* A request for method in service namespace ns (see soap_service_ns). */
int soap_request_new(const char *ns, const char *method, struct soap_msg **out);
/* A reply <methodResponse> in ns whose first element is StatusCode = status. */
int soap_response_new(const char *ns, const char *method, uint32_t status,
                      struct soap_msg **out);
/* A Fault with faultcode (CLIENT, SERVER, ...) and faultstring. */
int soap_fault_new(enum soap_fault_code code, const char *faultstring,
                   struct soap_msg **out);

/*
 * Appends a parameter, in the namespace of its parent: to the method element
 * (parent NULL) or to an element added before, for nested structures. value NULL
 * leaves it empty for children of its own. *out (optional) receives the element.
 * Values are escaped as needed; names must be NCNames.
 */
int soap_msg_add(struct soap_msg *m, xmlNodePtr parent, const char *name,
                 const char *value, xmlNodePtr *out);
/* The SOAPAction header value of a request; NULL for replies and faults. */
const char *soap_msg_action(const struct soap_msg *m);
/* The envelope as text in a fresh buffer (free with free()). */
int soap_msg_text(const struct soap_msg *m, char **text, size_t *len);
void soap_msg_free(struct soap_msg *m);

/* A request as the server reads it; the pointers point into the parsed document. */
struct soap_call {
    xmlNodePtr method; /* the element in Body */
    const char *name;  /* its local name */
    const char *ns;    /* its namespace URI, NULL if none */
};

/* Finds the method in a SOAP 1.1 request: SOAP_ENVELOPE or SOAP_MESSAGE if absent. */
int soap_call_parse(xmlDocPtr doc, struct soap_call *out);
/* A parameter by local name (in the method's namespace or none); NULL if absent. */
xmlNodePtr soap_call_param(const struct soap_call *c, const char *name);
/* Its trimmed text; AMT_ERR_NOT_FOUND if absent, AMT_ERR_TOO_LARGE if it won't fit. */
int soap_call_param_text(const struct soap_call *c, const char *name, char *buf,
                         size_t size);
/* Whether a SOAPAction header (quoted or not) names this call's ns#method. */
bool soap_call_action_matches(const struct soap_call *c, const char *soapaction);

#define SOAP_FAULTCODE_MAX 128
#define SOAP_FAULTSTRING_MAX 256

/* A reply as the client reads it. */
struct soap_reply {
    xmlNodePtr response; /* <methodResponse>; NULL for a fault */
    uint32_t status;     /* its first element, read by position as amttool does */
    enum soap_fault_code fault;
    char faultcode[SOAP_FAULTCODE_MAX];     /* as written, e.g. "SOAP-ENV:Client" */
    char faultstring[SOAP_FAULTSTRING_MAX]; /* cut short if longer */
};

/*
 * Reads a SOAP 1.1 reply. ns and method (either may be NULL: not checked) say which
 * <methodResponse> is expected. A Fault fills fault, faultcode and faultstring and
 * returns AMT_ERR_SOAP_FAULT. A wrong element or a first element that is not a
 * number gives AMT_ERR_SOAP_MESSAGE.
 */
int soap_reply_parse(xmlDocPtr doc, const char *ns, const char *method,
                     struct soap_reply *out);
/* An output element by local name; NULL if absent. */
xmlNodePtr soap_reply_get(const struct soap_reply *r, const char *name);
/* An output element by position: 0 is the status, 1 the first output parameter. */
xmlNodePtr soap_reply_get_at(const struct soap_reply *r, size_t index);

#endif
