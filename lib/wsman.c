#include "wsman.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "err.h"
#include "xmlsafe.h"

struct wsman_msg {
    xmlDocPtr doc;
    xmlNodePtr env, header, body;
    xmlNsPtr s;           /* the SOAP 1.2 envelope namespace */
    bool request;         /* selectors belong to requests only */
    xmlNodePtr payload;   /* where wsman_msg_add appends when given no parent */
    xmlNodePtr items;     /* PullResponse */
    xmlNodePtr selectors; /* SelectorSet, once there is one */
    size_t selector_count;
    xmlNodePtr return_value;    /* Invoke reply: outputs go in before it */
    char action[WSMAN_URI_MAX]; /* no longer than a reader takes */
    char message_id[WSMAN_MESSAGE_ID_LEN + 1];
};

static const struct fault_row {
    enum wsman_fault fault;
    bool receiver; /* env:Receiver, else env:Sender */
    const char *ns;
    const char *prefix; /* used in our own messages */
    const char *local;
    const char *name;
    const char *action;
    const char *reason;
} fault_rows[] = {
    {WSMAN_FAULT_ACCESS_DENIED, false, WSMAN_NS, "w", "AccessDenied",
     "wsman:AccessDenied", WSMAN_FAULT_ACTION_WSMAN,
     "The sender is not allowed to access this resource."},
    {WSMAN_FAULT_ACTION_NOT_SUPPORTED, false, WSMAN_WSA_NS, "a", "ActionNotSupported",
     "wsa:ActionNotSupported", WSMAN_FAULT_ACTION_WSA,
     "The action is not supported by the service."},
    {WSMAN_FAULT_DESTINATION_UNREACHABLE, false, WSMAN_WSA_NS, "a",
     "DestinationUnreachable", "wsa:DestinationUnreachable", WSMAN_FAULT_ACTION_WSA,
     "No resource of this service matches the destination of the request."},
    {WSMAN_FAULT_ENDPOINT_UNAVAILABLE, true, WSMAN_WSA_NS, "a", "EndpointUnavailable",
     "wsa:EndpointUnavailable", WSMAN_FAULT_ACTION_WSA,
     "The service cannot process the request now."},
    {WSMAN_FAULT_INTERNAL_ERROR, true, WSMAN_NS, "w", "InternalError",
     "wsman:InternalError", WSMAN_FAULT_ACTION_WSMAN,
     "The service failed to process the request."},
    {WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, true, WSMAN_WSEN_NS, "n",
     "InvalidEnumerationContext", "wsen:InvalidEnumerationContext",
     WSMAN_FAULT_ACTION_WSEN, "The enumeration context is not valid."},
    {WSMAN_FAULT_INVALID_MESSAGE_INFORMATION_HEADER, false, WSMAN_WSA_NS, "a",
     "InvalidMessageInformationHeader", "wsa:InvalidMessageInformationHeader",
     WSMAN_FAULT_ACTION_WSA, "A message information header is not valid."},
    {WSMAN_FAULT_INVALID_SELECTORS, false, WSMAN_NS, "w", "InvalidSelectors",
     "wsman:InvalidSelectors", WSMAN_FAULT_ACTION_WSMAN,
     "The selectors do not name an instance of the resource."},
    {WSMAN_FAULT_MESSAGE_INFORMATION_HEADER_REQUIRED, false, WSMAN_WSA_NS, "a",
     "MessageInformationHeaderRequired", "wsa:MessageInformationHeaderRequired",
     WSMAN_FAULT_ACTION_WSA, "A required message information header is missing."},
    {WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, false, WSMAN_NS, "w", "SchemaValidationError",
     "wsman:SchemaValidationError", WSMAN_FAULT_ACTION_WSMAN,
     "The message does not fit the schema of its action or resource."},
    {WSMAN_FAULT_TIMED_OUT, true, WSMAN_NS, "w", "TimedOut", "wsman:TimedOut",
     WSMAN_FAULT_ACTION_WSMAN, "The operation did not finish within its timeout."},
    {WSMAN_FAULT_UNSUPPORTED_FEATURE, false, WSMAN_NS, "w", "UnsupportedFeature",
     "wsman:UnsupportedFeature", WSMAN_FAULT_ACTION_WSMAN,
     "The request uses a feature the service does not support."},
};

static const struct {
    enum wsman_kind kind;
    const char *action;
    const char *reply;
} transfer_actions[] = {
    {WSMAN_GET, WSMAN_ACTION_GET, WSMAN_ACTION_GET_RESPONSE},
    {WSMAN_PUT, WSMAN_ACTION_PUT, WSMAN_ACTION_PUT_RESPONSE},
    {WSMAN_ENUMERATE, WSMAN_ACTION_ENUMERATE, WSMAN_ACTION_ENUMERATE_RESPONSE},
    {WSMAN_PULL, WSMAN_ACTION_PULL, WSMAN_ACTION_PULL_RESPONSE},
    {WSMAN_DELETE, WSMAN_ACTION_DELETE, WSMAN_ACTION_DELETE_RESPONSE},
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct fault_row *
fault_row(enum wsman_fault fault)
{
    for (size_t i = 0; i < N_ELEMS(fault_rows); i++)
        if (fault_rows[i].fault == fault)
            return &fault_rows[i];
    return NULL;
}

const char *
wsman_fault_name(enum wsman_fault fault)
{
    const struct fault_row *row = fault_row(fault);

    return row != NULL ? row->name : NULL;
}

const char *
wsman_fault_action(enum wsman_fault fault)
{
    const struct fault_row *row = fault_row(fault);

    return row != NULL ? row->action : NULL;
}

static bool
is_ncname(const char *s)
{
    return s != NULL && xmlValidateNCName((const xmlChar *)s, 0) == 0;
}

static bool
is_text(const char *s)
{
    return s != NULL && *s != '\0' && xmlsafe_check_text(s) == 0;
}

int
wsman_class_uri(const char *class_name, char *buf, size_t size)
{
    static const struct {
        const char *class_prefix;
        const char *uri_prefix;
    } prefixes[] = {
        {"AMT_", WSMAN_AMT_URI_PREFIX},
        {"CIM_", WSMAN_CIM_URI_PREFIX},
        {"IPS_", WSMAN_IPS_URI_PREFIX},
    };
    int n;

    if (class_name == NULL || buf == NULL || !is_ncname(class_name) ||
        strchr(class_name, '.') != NULL || strchr(class_name, '-') != NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < N_ELEMS(prefixes); i++) {
        if (strncmp(class_name, prefixes[i].class_prefix, 4) != 0 ||
            class_name[4] == '\0')
            continue;
        n = snprintf(buf, size, "%s%s", prefixes[i].uri_prefix, class_name);
        return n >= 0 && (size_t)n < size ? 0 : AMT_ERR_TOO_LARGE;
    }
    return AMT_ERR_INVALID_ARGUMENT;
}

const char *
wsman_class_name(const char *resource_uri)
{
    const char *slash;

    if (resource_uri == NULL || (slash = strrchr(resource_uri, '/')) == NULL ||
        slash[1] == '\0')
        return NULL;
    return slash + 1;
}

int
wsman_message_id(char *buf, size_t size)
{
    unsigned char b[16];

    if (buf == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (size < WSMAN_MESSAGE_ID_LEN + 1)
        return AMT_ERR_TOO_LARGE;
    if (RAND_bytes(b, sizeof(b)) != 1)
        return AMT_ERR_CRYPTO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4: random */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(buf, size,
             "uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
    return 0;
}

/* Declared once on the Envelope so that every header and QName can use it. */
static xmlNsPtr
env_ns(struct wsman_msg *m, const char *href, const char *prefix)
{
    xmlNsPtr ns = xmlSearchNsByHref(m->doc, m->env, (const xmlChar *)href);

    if (ns == NULL)
        ns = xmlNewNs(m->env, (const xmlChar *)href, (const xmlChar *)prefix);
    return ns;
}

static int
msg_new(bool request, struct wsman_msg **out)
{
    struct wsman_msg *m = NULL;
    int r = AMT_ERR_ALLOC;

    *out = NULL;
    if ((m = calloc(1, sizeof(*m))) == NULL)
        goto out;
    m->request = request;
    if ((m->doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL ||
        (m->env = xmlNewDocNode(m->doc, NULL, (const xmlChar *)"Envelope", NULL)) == NULL)
        goto out;
    xmlDocSetRootElement(m->doc, m->env);
    if ((m->s = env_ns(m, WSMAN_ENV_NS, "s")) == NULL ||
        env_ns(m, WSMAN_WSA_NS, "a") == NULL || env_ns(m, WSMAN_NS, "w") == NULL)
        goto out;
    xmlSetNs(m->env, m->s);
    if ((m->header = xmlNewChild(m->env, m->s, (const xmlChar *)"Header", NULL)) ==
            NULL ||
        (m->body = xmlNewChild(m->env, m->s, (const xmlChar *)"Body", NULL)) == NULL)
        goto out;
    if ((r = wsman_message_id(m->message_id, sizeof(m->message_id))) != 0)
        goto out;
    *out = m;
    m = NULL;
    r = 0;
out:
    wsman_msg_free(m);
    return r;
}

/* An element in a namespace of the Envelope; mustUnderstand where it matters. */
static int
add_env_child(struct wsman_msg *m, xmlNodePtr parent, const char *href,
              const char *prefix, const char *name, const char *value,
              bool must_understand, xmlNodePtr *out)
{
    xmlNodePtr node;
    int r;

    if (env_ns(m, href, prefix) == NULL)
        return AMT_ERR_ALLOC;
    if ((r = xmlsafe_add_child(parent, href, name, value, &node)) != 0)
        return r;
    if (must_understand && xmlNewNsProp(node, m->s, (const xmlChar *)"mustUnderstand",
                                        (const xmlChar *)"true") == NULL)
        return AMT_ERR_ALLOC;
    if (out != NULL)
        *out = node;
    return 0;
}

/* <p:name xmlns:p="href"/>: a class instance or method element in its own namespace. */
static int
add_class_element(struct wsman_msg *m, xmlNodePtr parent, const char *href,
                  const char *name, xmlNodePtr *out)
{
    xmlNodePtr node;
    xmlNsPtr ns;

    if (!is_ncname(name) || !xmlsafe_ns_declarable(href))
        return AMT_ERR_INVALID_ARGUMENT;
    if ((node = xmlNewDocNode(m->doc, NULL, (const xmlChar *)name, NULL)) == NULL)
        return AMT_ERR_ALLOC;
    xmlAddChild(parent, node);
    if ((ns = xmlNewNs(node, (const xmlChar *)href, (const xmlChar *)"p")) == NULL)
        return AMT_ERR_ALLOC;
    xmlSetNs(node, ns);
    *out = node;
    return 0;
}

/* The Action: base alone, or "<base>/<method><suffix>" for methods. */
static int
set_action(struct wsman_msg *m, const char *base, const char *method, const char *suffix)
{
    int n;

    if (method == NULL)
        n = snprintf(m->action, sizeof(m->action), "%s", base);
    else
        n = snprintf(m->action, sizeof(m->action), "%s/%s%s", base, method, suffix);
    return n >= 0 && (size_t)n < sizeof(m->action) ? 0 : AMT_ERR_TOO_LARGE;
}

/*
 * <s:Header>
 *   <a:Action s:mustUnderstand="true">.../transfer/Get</a:Action>
 *   <a:To s:mustUnderstand="true">http://host:16992/wsman</a:To>
 *   <w:ResourceURI s:mustUnderstand="true">.../AMT_GeneralSettings</w:ResourceURI>
 *   <a:MessageID>uuid:...</a:MessageID>
 *   <a:ReplyTo><a:Address s:mustUnderstand="true">.../anonymous</a:Address></a:ReplyTo>
 *   <w:OperationTimeout>PT60S</w:OperationTimeout>
 */
int
wsman_request_new(enum wsman_kind kind, const char *to, const char *resource_uri,
                  const char *arg, struct wsman_msg **out)
{
    struct wsman_msg *m = NULL;
    xmlNodePtr reply_to;
    char name[WSMAN_NAME_MAX + 8];
    int r = AMT_ERR_INVALID_ARGUMENT;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!is_text(to) || !is_text(resource_uri))
        return AMT_ERR_INVALID_ARGUMENT;
    if (strlen(to) >= WSMAN_URI_MAX || strlen(resource_uri) >= WSMAN_URI_MAX)
        return AMT_ERR_TOO_LARGE;
    if ((kind == WSMAN_PULL && !is_text(arg)) ||
        (kind == WSMAN_INVOKE && !is_ncname(arg)))
        return AMT_ERR_INVALID_ARGUMENT;
    if ((kind == WSMAN_PULL && strlen(arg) >= WSMAN_ID_MAX) ||
        (kind == WSMAN_INVOKE && strlen(arg) >= WSMAN_NAME_MAX))
        return AMT_ERR_TOO_LARGE;
    if ((r = msg_new(true, &m)) != 0)
        goto out;
    r = AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < N_ELEMS(transfer_actions); i++)
        if (transfer_actions[i].kind == kind)
            r = set_action(m, transfer_actions[i].action, NULL, NULL);
    if (kind == WSMAN_INVOKE)
        r = set_action(m, resource_uri, arg, "");
    if (r != 0)
        goto out;
    if ((r = add_env_child(m, m->header, WSMAN_WSA_NS, "a", "Action", m->action, true,
                           NULL)) != 0 ||
        (r = add_env_child(m, m->header, WSMAN_WSA_NS, "a", "To", to, true, NULL)) != 0 ||
        (r = add_env_child(m, m->header, WSMAN_NS, "w", "ResourceURI", resource_uri, true,
                           NULL)) != 0 ||
        (r = add_env_child(m, m->header, WSMAN_WSA_NS, "a", "MessageID", m->message_id,
                           false, NULL)) != 0 ||
        (r = add_env_child(m, m->header, WSMAN_WSA_NS, "a", "ReplyTo", NULL, false,
                           &reply_to)) != 0 ||
        (r = add_env_child(m, reply_to, WSMAN_WSA_NS, "a", "Address", WSMAN_ANONYMOUS,
                           true, NULL)) != 0 ||
        (r = add_env_child(m, m->header, WSMAN_NS, "w", "OperationTimeout",
                           WSMAN_OPERATION_TIMEOUT, false, NULL)) != 0)
        goto out;
    switch (kind) {
    case WSMAN_PUT:
        r = add_class_element(m, m->body, resource_uri, wsman_class_name(resource_uri),
                              &m->payload);
        break;
    case WSMAN_ENUMERATE:
        r = add_env_child(m, m->body, WSMAN_WSEN_NS, "n", "Enumerate", NULL, false,
                          &m->payload);
        break;
    case WSMAN_PULL:
        if ((r = add_env_child(m, m->body, WSMAN_WSEN_NS, "n", "Pull", NULL, false,
                               &m->payload)) == 0)
            r = xmlsafe_add_child(m->payload, NULL, "EnumerationContext", arg, NULL);
        break;
    case WSMAN_INVOKE:
        snprintf(name, sizeof(name), "%s_INPUT", arg);
        r = add_class_element(m, m->body, resource_uri, name, &m->payload);
        break;
    default:
        break;
    }
    if (r != 0)
        goto out;
    *out = m;
    m = NULL;
out:
    wsman_msg_free(m);
    return r;
}

int
wsman_msg_selector(struct wsman_msg *m, const char *name, const char *value)
{
    xmlNodePtr sel;
    int r;

    if (m == NULL || !m->request || !is_text(name) || value == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (strlen(name) >= WSMAN_NAME_MAX || strlen(value) >= WSMAN_VALUE_MAX ||
        m->selector_count == WSMAN_SELECTORS_MAX)
        return AMT_ERR_TOO_LARGE;
    if (m->selectors == NULL &&
        (r = add_env_child(m, m->header, WSMAN_NS, "w", "SelectorSet", NULL, false,
                           &m->selectors)) != 0)
        return r;
    if ((r = xmlsafe_add_child(m->selectors, NULL, "Selector", value, &sel)) != 0)
        return r;
    if (xmlNewProp(sel, (const xmlChar *)"Name", (const xmlChar *)name) == NULL)
        return AMT_ERR_ALLOC;
    m->selector_count++;
    return 0;
}

int
wsman_msg_add_ns(struct wsman_msg *m, xmlNodePtr parent, const char *ns, const char *name,
                 const char *value, xmlNodePtr *out)
{
    xmlNodePtr node;
    int r;

    if (out != NULL)
        *out = NULL;
    if (m == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (parent == NULL)
        parent = m->payload;
    if (parent == NULL || parent->doc != m->doc)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = xmlsafe_add_child(parent, ns, name, value, &node)) != 0)
        return r;
    if (parent == m->payload && m->return_value != NULL)
        xmlAddPrevSibling(m->return_value, node);
    if (out != NULL)
        *out = node;
    return 0;
}

int
wsman_msg_add(struct wsman_msg *m, xmlNodePtr parent, const char *name, const char *value,
              xmlNodePtr *out)
{
    return wsman_msg_add_ns(m, parent, NULL, name, value, out);
}

int
wsman_msg_item(struct wsman_msg *m, const char *resource_uri, xmlNodePtr *out)
{
    xmlNodePtr node;
    int r;

    if (out != NULL)
        *out = NULL;
    if (m == NULL || m->items == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = add_class_element(m, m->items, resource_uri, wsman_class_name(resource_uri),
                               &node)) != 0)
        return r;
    if (out != NULL)
        *out = node;
    return 0;
}

const char *
wsman_msg_action(const struct wsman_msg *m)
{
    return m != NULL ? m->action : NULL;
}

const char *
wsman_msg_message_id(const struct wsman_msg *m)
{
    return m != NULL ? m->message_id : NULL;
}

int
wsman_msg_text(const struct wsman_msg *m, char **text, size_t *len)
{
    if (m == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    return xmlsafe_serialize(m->doc, text, len);
}

void
wsman_msg_free(struct wsman_msg *m)
{
    if (m == NULL)
        return;
    xmlFreeDoc(m->doc);
    free(m);
}

/* The headers of every reply: To anonymous, RelatesTo, Action, MessageID. */
static int
reply_new(const struct wsman_call *req, struct wsman_msg *m)
{
    int r;

    if ((r = add_env_child(m, m->header, WSMAN_WSA_NS, "a", "To", WSMAN_ANONYMOUS, false,
                           NULL)) != 0)
        return r;
    if (req != NULL && req->message_id[0] != '\0' &&
        (r = add_env_child(m, m->header, WSMAN_WSA_NS, "a", "RelatesTo", req->message_id,
                           false, NULL)) != 0)
        return r;
    if ((r = add_env_child(m, m->header, WSMAN_WSA_NS, "a", "Action", m->action, true,
                           NULL)) != 0)
        return r;
    return add_env_child(m, m->header, WSMAN_WSA_NS, "a", "MessageID", m->message_id,
                         false, NULL);
}

/*
 * Starts a reply to req, which must be of the given kind: its Action and headers.
 * Clears the caller's *out first.
 */
static int
reply_start(const struct wsman_call *req, enum wsman_kind kind, struct wsman_msg **out,
            struct wsman_msg **m)
{
    int r;

    *m = NULL;
    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (req == NULL || req->kind != kind ||
        (kind == WSMAN_INVOKE && !is_ncname(req->method)))
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = msg_new(false, m)) != 0)
        return r;
    if (kind == WSMAN_INVOKE)
        r = set_action(*m, req->resource_uri, req->method, "Response");
    for (size_t i = 0; i < N_ELEMS(transfer_actions); i++)
        if (transfer_actions[i].kind == kind)
            r = set_action(*m, transfer_actions[i].reply, NULL, NULL);
    if (r == 0)
        r = reply_new(req, *m);
    return r;
}

int
wsman_response_new(const struct wsman_call *req, struct wsman_msg **out)
{
    struct wsman_msg *m = NULL;
    int r;

    if ((r = reply_start(req,
                         req != NULL && req->kind == WSMAN_PUT ? WSMAN_PUT : WSMAN_GET,
                         out, &m)) != 0 ||
        (r = add_class_element(m, m->body, req->resource_uri,
                               wsman_class_name(req->resource_uri), &m->payload)) != 0)
        goto out;
    *out = m;
    m = NULL;
out:
    wsman_msg_free(m);
    return r;
}

/* <s:Body/>: WS-Transfer's DeleteResponse says nothing but that it is done. */
int
wsman_delete_response_new(const struct wsman_call *req, struct wsman_msg **out)
{
    struct wsman_msg *m = NULL;
    int r;

    if ((r = reply_start(req, WSMAN_DELETE, out, &m)) != 0)
        goto out;
    *out = m;
    m = NULL;
out:
    wsman_msg_free(m);
    return r;
}

int
wsman_enumerate_response_new(const struct wsman_call *req, const char *context,
                             struct wsman_msg **out)
{
    struct wsman_msg *m = NULL;
    xmlNodePtr resp;
    int r;

    if ((r = reply_start(req, WSMAN_ENUMERATE, out, &m)) != 0)
        goto out;
    if (!is_text(context)) {
        r = AMT_ERR_INVALID_ARGUMENT;
        goto out;
    }
    if (strlen(context) >= WSMAN_ID_MAX) {
        r = AMT_ERR_TOO_LARGE;
        goto out;
    }
    if ((r = add_env_child(m, m->body, WSMAN_WSEN_NS, "n", "EnumerateResponse", NULL,
                           false, &resp)) != 0 ||
        (r = xmlsafe_add_child(resp, NULL, "EnumerationContext", context, NULL)) != 0)
        goto out;
    *out = m;
    m = NULL;
out:
    wsman_msg_free(m);
    return r;
}

/*
 * <n:PullResponse><n:EnumerationContext>..</n:EnumerationContext>
 *   <n:Items><p:AMT_PublicKeyCertificate xmlns:p="...">..</n:Items>
 *   <n:EndOfSequence/></n:PullResponse>
 */
int
wsman_pull_response_new(const struct wsman_call *req, const char *context,
                        bool end_of_sequence, struct wsman_msg **out)
{
    struct wsman_msg *m = NULL;
    xmlNodePtr resp;
    int r;

    if ((r = reply_start(req, WSMAN_PULL, out, &m)) != 0)
        goto out;
    if (context != NULL && strlen(context) >= WSMAN_ID_MAX) {
        r = AMT_ERR_TOO_LARGE;
        goto out;
    }
    if ((r = add_env_child(m, m->body, WSMAN_WSEN_NS, "n", "PullResponse", NULL, false,
                           &resp)) != 0 ||
        (context != NULL &&
         (r = xmlsafe_add_child(resp, NULL, "EnumerationContext", context, NULL)) != 0) ||
        (r = xmlsafe_add_child(resp, NULL, "Items", NULL, &m->items)) != 0 ||
        (end_of_sequence &&
         (r = xmlsafe_add_child(resp, NULL, "EndOfSequence", NULL, NULL)) != 0))
        goto out;
    *out = m;
    m = NULL;
out:
    wsman_msg_free(m);
    return r;
}

int
wsman_invoke_response_new(const struct wsman_call *req, uint32_t return_value,
                          struct wsman_msg **out)
{
    struct wsman_msg *m = NULL;
    char name[WSMAN_NAME_MAX + 8], value[16];
    int r;

    if ((r = reply_start(req, WSMAN_INVOKE, out, &m)) != 0)
        goto out;
    snprintf(name, sizeof(name), "%s_OUTPUT", req->method);
    snprintf(value, sizeof(value), "%u", (unsigned)return_value);
    if ((r = add_class_element(m, m->body, req->resource_uri, name, &m->payload)) != 0 ||
        (r = xmlsafe_add_child(m->payload, NULL, "ReturnValue", value,
                               &m->return_value)) != 0)
        goto out;
    *out = m;
    m = NULL;
out:
    wsman_msg_free(m);
    return r;
}

/*
 * <s:Fault>
 *   <s:Code><s:Value>s:Sender</s:Value>
 *     <s:Subcode><s:Value>w:InvalidSelectors</s:Value></s:Subcode></s:Code>
 *   <s:Reason><s:Text xml:lang="en-US">...</s:Text></s:Reason>
 *   <s:Detail><w:FaultDetail>http://.../faultDetail/...</w:FaultDetail></s:Detail>
 * </s:Fault>
 */
int
wsman_fault_new(const struct wsman_call *req, enum wsman_fault fault, const char *reason,
                const char *detail_uri, struct wsman_msg **out)
{
    const struct fault_row *row = fault_row(fault);
    struct wsman_msg *m = NULL;
    xmlNodePtr f, code, sub, text, det;
    xmlNsPtr sub_ns;
    char qname[128];
    int r = AMT_ERR_INVALID_ARGUMENT;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (row == NULL || (reason != NULL && !is_text(reason)) ||
        (detail_uri != NULL && !is_text(detail_uri)))
        return AMT_ERR_INVALID_ARGUMENT;
    if (detail_uri != NULL && strlen(detail_uri) >= WSMAN_URI_MAX)
        return AMT_ERR_TOO_LARGE;
    if ((r = msg_new(false, &m)) != 0)
        goto out;
    if ((r = set_action(m, row->action, NULL, NULL)) != 0 || (r = reply_new(req, m)) != 0)
        goto out;
    r = AMT_ERR_ALLOC;
    if ((sub_ns = env_ns(m, row->ns, row->prefix)) == NULL)
        goto out;
    if ((r = add_env_child(m, m->body, WSMAN_ENV_NS, "s", "Fault", NULL, false, &f)) !=
            0 ||
        (r = xmlsafe_add_child(f, NULL, "Code", NULL, &code)) != 0)
        goto out;
    snprintf(qname, sizeof(qname), "%s:%s", (const char *)m->s->prefix,
             row->receiver ? "Receiver" : "Sender");
    if ((r = xmlsafe_add_child(code, NULL, "Value", qname, NULL)) != 0 ||
        (r = xmlsafe_add_child(code, NULL, "Subcode", NULL, &sub)) != 0)
        goto out;
    snprintf(qname, sizeof(qname), "%s:%s", (const char *)sub_ns->prefix, row->local);
    if ((r = xmlsafe_add_child(sub, NULL, "Value", qname, NULL)) != 0 ||
        (r = xmlsafe_add_child(f, NULL, "Reason", NULL, &text)) != 0 ||
        (r = xmlsafe_add_child(text, NULL, "Text", reason != NULL ? reason : row->reason,
                               &text)) != 0)
        goto out;
    xmlNodeSetLang(text, (const xmlChar *)"en-US");
    if (detail_uri != NULL &&
        ((r = xmlsafe_add_child(f, NULL, "Detail", NULL, &det)) != 0 ||
         (r = add_env_child(m, det, WSMAN_NS, "w", "FaultDetail", detail_uri, false,
                            NULL)) != 0))
        goto out;
    *out = m;
    m = NULL;
    r = 0;
out:
    wsman_msg_free(m);
    return r;
}

/* Where a parse reports why it failed: the error text and the fault to answer. */
struct reader {
    char *detail;
    size_t detail_size;
    enum wsman_fault fault;
};

static int reader_fail(struct reader *rd, enum wsman_fault fault, int code,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
reader_fail(struct reader *rd, enum wsman_fault fault, int code, const char *fmt, ...)
{
    va_list ap;

    rd->fault = fault;
    if (rd->detail != NULL && rd->detail_size > 0) {
        va_start(ap, fmt);
        vsnprintf(rd->detail, rd->detail_size, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* The one, non-empty header label:name, which must fit buf. */
static int
read_header(struct reader *rd, xmlNodePtr hdr, const char *ns, const char *label,
            const char *name, char *buf, size_t size, enum wsman_fault missing)
{
    xmlNodePtr node = xmlsafe_child(hdr, ns, name);

    if (node == NULL)
        return reader_fail(rd, missing, AMT_ERR_WSMAN_HEADER, "missing %s:%s header",
                           label, name);
    if (xmlsafe_next(node, ns, name) != NULL)
        return reader_fail(rd, WSMAN_FAULT_INVALID_MESSAGE_INFORMATION_HEADER,
                           AMT_ERR_WSMAN_HEADER, "%s:%s header given twice", label, name);
    if (xmlsafe_text(node, buf, size) != 0)
        return reader_fail(rd, WSMAN_FAULT_INVALID_MESSAGE_INFORMATION_HEADER,
                           AMT_ERR_WSMAN_HEADER, "%s:%s header longer than %zu bytes",
                           label, name, size - 1);
    if (buf[0] == '\0')
        return reader_fail(rd, missing, AMT_ERR_WSMAN_HEADER, "empty %s:%s header", label,
                           name);
    return 0;
}

/* <w:SelectorSet><w:Selector Name="InstanceID">Intel(r) AMT ...</w:Selector> */
static int
read_selectors(struct reader *rd, xmlNodePtr hdr, struct wsman_call *c)
{
    const enum wsman_fault bad = WSMAN_FAULT_INVALID_SELECTORS;
    xmlNodePtr set = xmlsafe_child(hdr, WSMAN_NS, "SelectorSet");

    if (set == NULL)
        return 0;
    if (xmlsafe_next(set, WSMAN_NS, "SelectorSet") != NULL)
        return reader_fail(rd, bad, AMT_ERR_WSMAN_HEADER,
                           "wsman:SelectorSet header given twice");
    for (xmlNodePtr sel = xmlsafe_child(set, WSMAN_NS, "Selector"); sel != NULL;
         sel = xmlsafe_next(sel, WSMAN_NS, "Selector")) {
        struct wsman_selector *s = &c->selectors[c->selector_count];
        xmlChar *name;
        size_t len;

        if (c->selector_count == WSMAN_SELECTORS_MAX)
            return reader_fail(rd, bad, AMT_ERR_WSMAN_HEADER, "more than %d selectors",
                               WSMAN_SELECTORS_MAX);
        if ((name = xmlGetNoNsProp(sel, (const xmlChar *)"Name")) == NULL)
            return reader_fail(rd, bad, AMT_ERR_WSMAN_HEADER, "selector without Name");
        len = strlen((const char *)name);
        if (len > 0 && len < sizeof(s->name))
            memcpy(s->name, name, len + 1);
        xmlFree(name);
        if (len == 0 || len >= sizeof(s->name))
            return reader_fail(rd, bad, AMT_ERR_WSMAN_HEADER,
                               "selector Name empty or longer than %zu bytes",
                               sizeof(s->name) - 1);
        if (wsman_call_selector(c, s->name) != NULL)
            return reader_fail(rd, bad, AMT_ERR_WSMAN_HEADER, "selector %s given twice",
                               s->name);
        if (xmlsafe_text(sel, s->value, sizeof(s->value)) != 0)
            return reader_fail(rd, bad, AMT_ERR_WSMAN_HEADER,
                               "selector %s longer than %zu bytes", s->name,
                               sizeof(s->value) - 1);
        c->selector_count++;
    }
    return 0;
}

/* Which request an Action names; an Invoke is <ResourceURI>/<Method>. */
static int
read_kind(struct reader *rd, struct wsman_call *c)
{
    size_t n = strlen(c->resource_uri);
    const char *method;

    for (size_t i = 0; i < N_ELEMS(transfer_actions); i++) {
        if (strcmp(c->action, transfer_actions[i].action) == 0) {
            c->kind = transfer_actions[i].kind;
            return 0;
        }
    }
    method = c->action + n + 1;
    if (strncmp(c->action, c->resource_uri, n) == 0 && c->action[n] == '/' &&
        is_ncname(method) && strlen(method) < sizeof(c->method)) {
        c->kind = WSMAN_INVOKE;
        memcpy(c->method, method, strlen(method) + 1);
        return 0;
    }
    return reader_fail(rd, WSMAN_FAULT_ACTION_NOT_SUPPORTED, AMT_ERR_WSMAN_ACTION,
                       "action %s not supported for this resource", c->action);
}

/* Whether s is prefix followed by suffix. */
static bool
is_named_text(const char *s, const char *prefix, const char *suffix)
{
    size_t n = strlen(prefix);

    return strncmp(s, prefix, n) == 0 && strcmp(s + n, suffix) == 0;
}

/* Whether node is an element in namespace ns named prefix followed by suffix. */
static bool
is_named(const xmlNode *node, const char *ns, const char *prefix, const char *suffix)
{
    return xmlsafe_is(node, ns, NULL) &&
           is_named_text((const char *)node->name, prefix, suffix);
}

static int
read_body(struct reader *rd, xmlNodePtr body, struct wsman_call *c)
{
    const enum wsman_fault bad = WSMAN_FAULT_SCHEMA_VALIDATION_ERROR;
    const char *class_name = wsman_class_name(c->resource_uri);

    c->body = xmlsafe_child(body, NULL, NULL);
    switch (c->kind) {
    case WSMAN_PUT:
        if (class_name == NULL || !is_named(c->body, c->resource_uri, class_name, ""))
            return reader_fail(rd, bad, AMT_ERR_WSMAN_BODY,
                               "Put body is not an instance of the resource's class");
        break;
    case WSMAN_ENUMERATE:
        if (!xmlsafe_is(c->body, WSMAN_WSEN_NS, "Enumerate"))
            return reader_fail(rd, bad, AMT_ERR_WSMAN_BODY, "Enumerate body missing");
        break;
    case WSMAN_PULL:
        if (!xmlsafe_is(c->body, WSMAN_WSEN_NS, "Pull"))
            return reader_fail(rd, bad, AMT_ERR_WSMAN_BODY, "Pull body missing");
        if (xmlsafe_text(xmlsafe_child(c->body, WSMAN_WSEN_NS, "EnumerationContext"),
                         c->context, sizeof(c->context)) != 0 ||
            c->context[0] == '\0')
            return reader_fail(rd, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT,
                               AMT_ERR_WSMAN_BODY,
                               "Pull without an EnumerationContext of at most %zu bytes",
                               sizeof(c->context) - 1);
        break;
    case WSMAN_INVOKE:
        if (!is_named(c->body, c->resource_uri, c->method, "_INPUT"))
            return reader_fail(rd, bad, AMT_ERR_WSMAN_BODY, "Invoke body is not %s_INPUT",
                               c->method);
        break;
    default:
        break;
    }
    return 0;
}

int
wsman_call_parse(xmlDocPtr doc, struct wsman_call *out, char *detail, size_t detail_size)
{
    const enum wsman_fault required = WSMAN_FAULT_MESSAGE_INFORMATION_HEADER_REQUIRED;
    struct reader rd = {detail, detail_size, WSMAN_FAULT_NONE};
    struct wsman_call *c = NULL;
    xmlNodePtr hdr, body;
    int r;

    if (detail != NULL && detail_size > 0)
        detail[0] = '\0';
    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    /* Parsed aside, so that a failure leaves out clean but for fault and message_id. */
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMT_ERR_ALLOC;
    if (soap_envelope(doc, WSMAN_ENV_NS, &hdr, &body) != 0) {
        r = reader_fail(&rd, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, AMT_ERR_SOAP_ENVELOPE,
                        "not a SOAP 1.2 envelope with a Body");
        goto out;
    }
    if ((r = read_header(&rd, hdr, WSMAN_WSA_NS, "wsa", "MessageID", c->message_id,
                         sizeof(c->message_id), required)) != 0)
        goto out;
    if ((r = read_header(&rd, hdr, WSMAN_WSA_NS, "wsa", "Action", c->action,
                         sizeof(c->action), required)) != 0 ||
        (r = read_header(&rd, hdr, WSMAN_WSA_NS, "wsa", "To", c->to, sizeof(c->to),
                         required)) != 0 ||
        (r = read_header(&rd, hdr, WSMAN_NS, "wsman", "ResourceURI", c->resource_uri,
                         sizeof(c->resource_uri), WSMAN_FAULT_DESTINATION_UNREACHABLE)) !=
            0 ||
        (r = read_selectors(&rd, hdr, c)) != 0 || (r = read_kind(&rd, c)) != 0 ||
        (r = read_body(&rd, body, c)) != 0)
        goto out;
    *out = *c;
    r = 0;
out:
    if (r != 0) {
        out->fault = rd.fault;
        memcpy(out->message_id, c->message_id, sizeof(out->message_id));
    }
    free(c);
    return r;
}

const char *
wsman_call_selector(const struct wsman_call *c, const char *name)
{
    if (c == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < c->selector_count && i < WSMAN_SELECTORS_MAX; i++)
        if (strcmp(c->selectors[i].name, name) == 0)
            return c->selectors[i].value;
    return NULL;
}

/*
 * Resolves the QName written in text (e.g. "w:InvalidSelectors") at node: the
 * namespace URI (NULL if the prefix is unknown) and a pointer to the local part.
 */
static const char *
qname_ns(xmlNodePtr node, const char *text, const char **local)
{
    const char *colon = strchr(text, ':');
    char prefix[WSMAN_NAME_MAX];
    xmlNsPtr ns;

    *local = text;
    if (colon == NULL) {
        ns = xmlSearchNs(node->doc, node, NULL);
    } else {
        memcpy(prefix, text, (size_t)(colon - text));
        prefix[colon - text] = '\0';
        ns = xmlSearchNs(node->doc, node, (const xmlChar *)prefix);
        *local = colon + 1;
    }
    return ns != NULL ? (const char *)ns->href : NULL;
}

static void
read_fault(xmlNodePtr fault, struct wsman_reply *out)
{
    xmlNodePtr code = xmlsafe_child(fault, WSMAN_ENV_NS, "Code");
    xmlNodePtr value = xmlsafe_child(code, WSMAN_ENV_NS, "Value");
    xmlNodePtr sub = xmlsafe_child(xmlsafe_child(code, WSMAN_ENV_NS, "Subcode"),
                                   WSMAN_ENV_NS, "Value");
    xmlNodePtr reason =
        xmlsafe_child(xmlsafe_child(fault, WSMAN_ENV_NS, "Reason"), WSMAN_ENV_NS, "Text");
    xmlNodePtr detail = xmlsafe_child(xmlsafe_child(fault, WSMAN_ENV_NS, "Detail"),
                                      WSMAN_NS, "FaultDetail");
    const char *ns, *local;

    out->fault = WSMAN_FAULT_OTHER;
    if (value != NULL &&
        xmlsafe_text(value, out->fault_code, sizeof(out->fault_code)) == 0) {
        ns = qname_ns(value, out->fault_code, &local);
        if (ns != NULL && strcmp(ns, WSMAN_ENV_NS) == 0)
            memmove(out->fault_code, local, strlen(local) + 1);
    }
    if (sub != NULL &&
        xmlsafe_text(sub, out->fault_subcode, sizeof(out->fault_subcode)) == 0) {
        ns = qname_ns(sub, out->fault_subcode, &local);
        for (size_t i = 0; ns != NULL && i < N_ELEMS(fault_rows); i++)
            if (strcmp(ns, fault_rows[i].ns) == 0 &&
                strcmp(local, fault_rows[i].local) == 0)
                out->fault = fault_rows[i].fault;
    }
    if (reason != NULL)
        xmlsafe_text_cut(reason, out->fault_reason, sizeof(out->fault_reason));
    if (detail != NULL)
        xmlsafe_text(detail, out->fault_detail, sizeof(out->fault_detail));
}

/* Which reply an Action names; an Invoke reply is <ResourceURI>/<Method>Response. */
static int
read_reply_body(struct reader *rd, struct wsman_reply *out)
{
    const enum wsman_fault bad = WSMAN_FAULT_SCHEMA_VALIDATION_ERROR;
    xmlNodePtr b = out->body, rv;
    const char *ns;
    size_t n;

    for (size_t i = 0; i < N_ELEMS(transfer_actions); i++)
        if (strcmp(out->action, transfer_actions[i].reply) == 0)
            out->kind = transfer_actions[i].kind;
    switch (out->kind) {
    case WSMAN_GET:
        if (b == NULL)
            return reader_fail(rd, bad, AMT_ERR_WSMAN_BODY,
                               "GetResponse without instance");
        out->instance = b;
        return 0;
    case WSMAN_PUT:
        out->instance = b;
        return 0;
    case WSMAN_DELETE:
        /* nothing to read; a body some firmware adds anyway is left to the caller */
        out->instance = NULL;
        return 0;
    case WSMAN_ENUMERATE:
        if (!xmlsafe_is(b, WSMAN_WSEN_NS, "EnumerateResponse") ||
            xmlsafe_text(xmlsafe_child(b, WSMAN_WSEN_NS, "EnumerationContext"),
                         out->context, sizeof(out->context)) != 0 ||
            out->context[0] == '\0')
            return reader_fail(rd, bad, AMT_ERR_WSMAN_BODY,
                               "EnumerateResponse without EnumerationContext");
        return 0;
    case WSMAN_PULL:
        if (!xmlsafe_is(b, WSMAN_WSEN_NS, "PullResponse"))
            return reader_fail(rd, bad, AMT_ERR_WSMAN_BODY, "PullResponse body missing");
        if (xmlsafe_child(b, WSMAN_WSEN_NS, "EnumerationContext") != NULL &&
            xmlsafe_text(xmlsafe_child(b, WSMAN_WSEN_NS, "EnumerationContext"),
                         out->context, sizeof(out->context)) != 0)
            return reader_fail(rd, bad, AMT_ERR_WSMAN_BODY,
                               "EnumerationContext longer than %zu bytes",
                               sizeof(out->context) - 1);
        out->items = xmlsafe_child(b, WSMAN_WSEN_NS, "Items");
        out->end_of_sequence = xmlsafe_child(b, WSMAN_WSEN_NS, "EndOfSequence") != NULL;
        return 0;
    default:
        break;
    }
    /* An Invoke reply: <p:Method_OUTPUT> in the resource's namespace. */
    n = b != NULL ? strlen((const char *)b->name) : 0;
    ns = xmlsafe_ns(b);
    if (n <= 7 || n - 7 >= sizeof(out->method) || ns == NULL ||
        strcmp((const char *)b->name + n - 7, "_OUTPUT") != 0)
        return reader_fail(rd, WSMAN_FAULT_ACTION_NOT_SUPPORTED, AMT_ERR_WSMAN_ACTION,
                           "reply action %s not understood", out->action);
    memcpy(out->method, b->name, n - 7);
    out->method[n - 7] = '\0';
    if (strncmp(out->action, ns, strlen(ns)) != 0 || out->action[strlen(ns)] != '/' ||
        !is_named_text(out->action + strlen(ns) + 1, out->method, "Response"))
        return reader_fail(rd, WSMAN_FAULT_ACTION_NOT_SUPPORTED, AMT_ERR_WSMAN_ACTION,
                           "reply action %s does not answer %s", out->action,
                           out->method);
    if ((rv = xmlsafe_child(b, NULL, "ReturnValue")) == NULL ||
        xmlsafe_text_u32(rv, &out->return_value) != 0)
        return reader_fail(rd, bad, AMT_ERR_WSMAN_BODY,
                           "%s without a numeric ReturnValue", b->name);
    out->kind = WSMAN_INVOKE;
    out->instance = b;
    return 0;
}

int
wsman_reply_parse(xmlDocPtr doc, struct wsman_reply *out, char *detail,
                  size_t detail_size)
{
    struct reader rd = {detail, detail_size, WSMAN_FAULT_NONE};
    xmlNodePtr hdr, body;
    int r;

    if (detail != NULL && detail_size > 0)
        detail[0] = '\0';
    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if (soap_envelope(doc, WSMAN_ENV_NS, &hdr, &body) != 0)
        return reader_fail(&rd, WSMAN_FAULT_NONE, AMT_ERR_SOAP_ENVELOPE,
                           "not a SOAP 1.2 envelope with a Body");
    out->body = xmlsafe_child(body, NULL, NULL);
    /* A fault is reported even when its headers are poor. */
    if (xmlsafe_is(out->body, WSMAN_ENV_NS, "Fault")) {
        xmlsafe_text(xmlsafe_child(hdr, WSMAN_WSA_NS, "Action"), out->action,
                     sizeof(out->action));
        xmlsafe_text(xmlsafe_child(hdr, WSMAN_WSA_NS, "RelatesTo"), out->relates_to,
                     sizeof(out->relates_to));
        xmlsafe_text(xmlsafe_child(hdr, WSMAN_WSA_NS, "MessageID"), out->message_id,
                     sizeof(out->message_id));
        read_fault(out->body, out);
        return reader_fail(&rd, out->fault, AMT_ERR_SOAP_FAULT, "fault %s: %s",
                           out->fault_subcode, out->fault_reason);
    }
    if ((r = read_header(&rd, hdr, WSMAN_WSA_NS, "wsa", "Action", out->action,
                         sizeof(out->action), WSMAN_FAULT_NONE)) != 0 ||
        (r = read_header(&rd, hdr, WSMAN_WSA_NS, "wsa", "RelatesTo", out->relates_to,
                         sizeof(out->relates_to), WSMAN_FAULT_NONE)) != 0)
        return r;
    xmlsafe_text(xmlsafe_child(hdr, WSMAN_WSA_NS, "MessageID"), out->message_id,
                 sizeof(out->message_id));
    return read_reply_body(&rd, out);
}
