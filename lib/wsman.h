/*
 * WS-Management as AMT's phase 2 interface speaks it: SOAP 1.2 envelopes posted to
 * /wsman, WS-Addressing 2004/08 headers, WS-Transfer Get, Put and Delete,
 * WS-Enumeration Enumerate and Pull, and methods invoked as <ResourceURI>/<Method>
 * with a <Method>_INPUT body and a <Method>_OUTPUT reply that carries ReturnValue.
 * Faults follow DSP0226: a SOAP 1.2 Code, a Subcode naming the fault, a Reason.
 */
#ifndef AMT_WSMAN_H
#define AMT_WSMAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "soap.h"

#define WSMAN_ENV_NS SOAP12_ENV_NS
#define WSMAN_WSA_NS "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define WSMAN_NS "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define WSMAN_WSEN_NS "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
#define WSMAN_WXF_NS "http://schemas.xmlsoap.org/ws/2004/09/transfer"

#define WSMAN_ANONYMOUS WSMAN_WSA_NS "/role/anonymous"
#define WSMAN_ACTION_GET WSMAN_WXF_NS "/Get"
#define WSMAN_ACTION_GET_RESPONSE WSMAN_WXF_NS "/GetResponse"
#define WSMAN_ACTION_PUT WSMAN_WXF_NS "/Put"
#define WSMAN_ACTION_PUT_RESPONSE WSMAN_WXF_NS "/PutResponse"
#define WSMAN_ACTION_DELETE WSMAN_WXF_NS "/Delete"
#define WSMAN_ACTION_DELETE_RESPONSE WSMAN_WXF_NS "/DeleteResponse"
#define WSMAN_ACTION_ENUMERATE WSMAN_WSEN_NS "/Enumerate"
#define WSMAN_ACTION_ENUMERATE_RESPONSE WSMAN_WSEN_NS "/EnumerateResponse"
#define WSMAN_ACTION_PULL WSMAN_WSEN_NS "/Pull"
#define WSMAN_ACTION_PULL_RESPONSE WSMAN_WSEN_NS "/PullResponse"
#define WSMAN_FAULT_ACTION_WSA WSMAN_WSA_NS "/fault"
#define WSMAN_FAULT_ACTION_WSMAN "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
#define WSMAN_FAULT_ACTION_WSEN WSMAN_WSEN_NS "/fault"
#define WSMAN_FAULT_DETAIL_PREFIX                                                        \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"

/* What clients of AMT send: about a minute. */
#define WSMAN_OPERATION_TIMEOUT "PT60S"

/* Resource URI prefixes by class name prefix. */
#define WSMAN_AMT_URI_PREFIX "http://intel.com/wbem/wscim/1/amt-schema/1/"
#define WSMAN_CIM_URI_PREFIX "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
#define WSMAN_IPS_URI_PREFIX "http://intel.com/wbem/wscim/1/ips-schema/1/"

/*
 * Caps on what a parsed message may carry; longer is refused, not cut. The
 * builders refuse the same with AMT_ERR_TOO_LARGE, so that they never write what
 * the readers refuse.
 */
#define WSMAN_URI_MAX 512       /* To, Action, ResourceURI, FaultDetail */
#define WSMAN_ID_MAX 128        /* MessageID, RelatesTo, EnumerationContext */
#define WSMAN_NAME_MAX 128      /* method and selector names */
#define WSMAN_VALUE_MAX 256     /* selector values */
#define WSMAN_SELECTORS_MAX 8   /* selectors in one SelectorSet */
#define WSMAN_REASON_MAX 256    /* fault Reason text (this one is cut) */
#define WSMAN_MESSAGE_ID_LEN 41 /* "uuid:" and 36 characters */

enum wsman_kind {
    WSMAN_UNKNOWN = 0,
    WSMAN_GET,
    WSMAN_PUT,
    WSMAN_ENUMERATE,
    WSMAN_PULL,
    WSMAN_INVOKE,
    WSMAN_DELETE, /* empty body both ways; the selectors name what goes */
};

/*
 * DSP0226 faults, each with its Code, Subcode, Action and a default Reason. The
 * subcode has the name of the constant: WSMAN_FAULT_ACCESS_DENIED is
 * wsman:AccessDenied, WSMAN_FAULT_ACTION_NOT_SUPPORTED wsa:ActionNotSupported.
 */
enum wsman_fault {
    WSMAN_FAULT_NONE = 0,
    WSMAN_FAULT_ACCESS_DENIED,
    WSMAN_FAULT_ACTION_NOT_SUPPORTED,
    WSMAN_FAULT_DESTINATION_UNREACHABLE,
    WSMAN_FAULT_ENDPOINT_UNAVAILABLE,
    WSMAN_FAULT_INTERNAL_ERROR,
    WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT,
    WSMAN_FAULT_INVALID_MESSAGE_INFORMATION_HEADER,
    WSMAN_FAULT_INVALID_SELECTORS,
    WSMAN_FAULT_MESSAGE_INFORMATION_HEADER_REQUIRED,
    WSMAN_FAULT_SCHEMA_VALIDATION_ERROR,
    WSMAN_FAULT_TIMED_OUT,
    WSMAN_FAULT_UNSUPPORTED_FEATURE,
    WSMAN_FAULT_OTHER, /* a parsed fault whose subcode is none of the above */
};

/* "wsman:InvalidSelectors" and so on; NULL for NONE, OTHER and unknown values. */
const char *wsman_fault_name(enum wsman_fault fault);
/* The wsa:Action of the fault message; NULL as above. */
const char *wsman_fault_action(enum wsman_fault fault);

/* The resource URI of an AMT_, CIM_ or IPS_ class; AMT_ERR_INVALID_ARGUMENT otherwise. */
int wsman_class_uri(const char *class_name, char *buf, size_t size);
/* The class name at the end of a resource URI (a pointer into it); NULL if none. */
const char *wsman_class_name(const char *resource_uri);
/* A fresh "uuid:xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" in WSMAN_MESSAGE_ID_LEN + 1 bytes.
 */
int wsman_message_id(char *buf, size_t size);

/* A WS-Management message under construction. */
struct wsman_msg;

/*
 * A request to the service at "to" (e.g. "http://host:16992/wsman") about
 * resource_uri. arg is the EnumerationContext for WSMAN_PULL, the method name for
 * WSMAN_INVOKE, and NULL otherwise. Headers: Action, To, ResourceURI, MessageID,
 * ReplyTo (anonymous), OperationTimeout. A Put carries an empty instance of the
 * resource's class and an Invoke an empty <method>_INPUT: fill them with
 * wsman_msg_add. Get and Delete have an empty Body.
 */
int wsman_request_new(enum wsman_kind kind, const char *to, const char *resource_uri,
                      const char *arg, struct wsman_msg **out);
/* Adds <w:Selector Name="name">value</w:Selector> to the request's SelectorSet. */
int wsman_msg_selector(struct wsman_msg *m, const char *name, const char *value);

/*
 * Appends an element holding value (NULL: empty, for children of its own) to
 * parent, in parent's namespace. parent NULL means the message's payload: the Put
 * or Get instance, the <method>_INPUT or _OUTPUT (outputs land before ReturnValue),
 * or the Enumerate or Pull element. *out (optional) receives the element.
 */
int wsman_msg_add(struct wsman_msg *m, xmlNodePtr parent, const char *name,
                  const char *value, xmlNodePtr *out);
/* The same in namespace ns (declared where needed), e.g. an EPR's wsa:Address. */
int wsman_msg_add_ns(struct wsman_msg *m, xmlNodePtr parent, const char *ns,
                     const char *name, const char *value, xmlNodePtr *out);
/* A PullResponse only: adds an empty instance of resource_uri's class to Items. */
int wsman_msg_item(struct wsman_msg *m, const char *resource_uri, xmlNodePtr *out);

const char *wsman_msg_action(const struct wsman_msg *m);
const char *wsman_msg_message_id(const struct wsman_msg *m);
/* The envelope as text in a fresh buffer (free with free()). */
int wsman_msg_text(const struct wsman_msg *m, char **text, size_t *len);
void wsman_msg_free(struct wsman_msg *m);

struct wsman_selector {
    char name[WSMAN_NAME_MAX];
    char value[WSMAN_VALUE_MAX];
};

/* A request as the service reads it. body points into the parsed document. */
struct wsman_call {
    enum wsman_kind kind;
    char action[WSMAN_URI_MAX];
    char to[WSMAN_URI_MAX];
    char resource_uri[WSMAN_URI_MAX];
    char message_id[WSMAN_ID_MAX];
    char method[WSMAN_NAME_MAX]; /* WSMAN_INVOKE */
    char context[WSMAN_ID_MAX];  /* WSMAN_PULL */
    size_t selector_count;
    struct wsman_selector selectors[WSMAN_SELECTORS_MAX];
    xmlNodePtr body;        /* first element in Body; NULL if it is empty */
    enum wsman_fault fault; /* on failure: the fault to answer with */
};

/*
 * Reads a request. Refuses a missing or duplicated To, Action, MessageID or
 * ResourceURI with AMT_ERR_WSMAN_HEADER (detail names the header), bad selectors
 * likewise, an action other than Get, Put, Delete, Enumerate, Pull or
 * <ResourceURI>/<Method> with AMT_ERR_WSMAN_ACTION, and a body that does not fit
 * the action (Put without the class's instance, Pull without EnumerationContext,
 * Invoke without <Method>_INPUT) with AMT_ERR_WSMAN_BODY. On failure out holds only
 * fault and, if it could be read, message_id, so that the fault can be answered.
 */
int wsman_call_parse(xmlDocPtr doc, struct wsman_call *out, char *detail,
                     size_t detail_size);
/* A selector's value by name; NULL if the request has none by that name. */
const char *wsman_call_selector(const struct wsman_call *c, const char *name);

/* Replies to a parsed request, RelatesTo its MessageID, To anonymous. */
/* Get or Put: GetResponse/PutResponse with an empty instance to fill. */
int wsman_response_new(const struct wsman_call *req, struct wsman_msg **out);
/* Delete: a DeleteResponse, whose Body stays empty. */
int wsman_delete_response_new(const struct wsman_call *req, struct wsman_msg **out);
int wsman_enumerate_response_new(const struct wsman_call *req, const char *context,
                                 struct wsman_msg **out);
/* context NULL leaves it out (as at the end); add items with wsman_msg_item. */
int wsman_pull_response_new(const struct wsman_call *req, const char *context,
                            bool end_of_sequence, struct wsman_msg **out);
/* <method>_OUTPUT with ReturnValue last; add output parameters with wsman_msg_add. */
int wsman_invoke_response_new(const struct wsman_call *req, uint32_t return_value,
                              struct wsman_msg **out);
/*
 * A fault. req may be NULL (or a failed parse) when the request could not be read.
 * reason NULL uses the standard text; detail_uri (optional) goes into
 * Detail/FaultDetail, e.g. WSMAN_FAULT_DETAIL_PREFIX "InvalidResourceURI".
 */
int wsman_fault_new(const struct wsman_call *req, enum wsman_fault fault,
                    const char *reason, const char *detail_uri, struct wsman_msg **out);

/* A reply as the client reads it; node pointers point into the parsed document. */
struct wsman_reply {
    enum wsman_kind kind; /* what it answers; WSMAN_UNKNOWN for a fault */
    char action[WSMAN_URI_MAX];
    char message_id[WSMAN_ID_MAX];
    char relates_to[WSMAN_ID_MAX];
    char method[WSMAN_NAME_MAX];     /* WSMAN_INVOKE */
    xmlNodePtr body;                 /* first element in Body; Delete: NULL */
    xmlNodePtr instance;             /* Get, Put: the instance; Invoke: <method>_OUTPUT */
    xmlNodePtr items;                /* Pull: the Items element, NULL if none */
    char context[WSMAN_ID_MAX];      /* Enumerate, Pull (empty if none) */
    bool end_of_sequence;            /* Pull */
    uint32_t return_value;           /* Invoke */
    enum wsman_fault fault;          /* AMT_ERR_SOAP_FAULT: which one */
    char fault_code[WSMAN_NAME_MAX]; /* local part: "Sender" or "Receiver" */
    char fault_subcode[WSMAN_NAME_MAX]; /* as written, e.g. "w:InvalidSelectors" */
    char fault_reason[WSMAN_REASON_MAX];
    char fault_detail[WSMAN_URI_MAX];
};

/*
 * Reads a reply. A fault fills the fault fields and returns AMT_ERR_SOAP_FAULT.
 * Otherwise Action and RelatesTo are required (AMT_ERR_WSMAN_HEADER), the Action
 * must be a known reply (AMT_ERR_WSMAN_ACTION), and the body must fit it
 * (AMT_ERR_WSMAN_BODY: e.g. an _OUTPUT without a numeric ReturnValue).
 */
int wsman_reply_parse(xmlDocPtr doc, struct wsman_reply *out, char *detail,
                      size_t detail_size);

#endif
