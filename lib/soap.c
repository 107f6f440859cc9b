#include "soap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xmlsafe.h"

struct soap_msg {
    xmlDocPtr doc;
    xmlNodePtr payload; /* the method or response element; NULL in a fault */
    char *action;       /* SOAPAction of a request */
};

static const struct {
    uint32_t code;
    const char *name;
} status_names[] = {
    {SOAP_STATUS_SUCCESS, "SUCCESS"},
    {SOAP_STATUS_INTERNAL_ERROR, "INTERNAL_ERROR"},
    {SOAP_STATUS_NOT_PERMITTED, "NOT_PERMITTED"},
    {SOAP_STATUS_INVALID_PROVISIONING_STATE, "INVALID_PROVISIONING_STATE"},
    {SOAP_STATUS_INVALID_PARAMETER, "INVALID_PARAMETER"},
    {SOAP_STATUS_INVALID_PASSWORD, "INVALID_PASSWORD"},
    {SOAP_STATUS_INVALID_CERT, "INVALID_CERT"},
    {SOAP_STATUS_UNSUPPORTED, "UNSUPPORTED"},
    {SOAP_STATUS_INVALID_CREDENTIALS, "INVALID_CREDENTIALS"},
    {SOAP_STATUS_INVALID_NAME, "INVALID_NAME"},
    {SOAP_STATUS_MAX_LIMIT_REACHED, "MAX_LIMIT_REACHED"},
    {SOAP_STATUS_INVALID_IP_ADDRESS, "INVALID_IP_ADDRESS"},
    {SOAP_STATUS_INVALID_DOMAIN_NAME, "INVALID_DOMAIN_NAME"},
    {SOAP_STATUS_INVALID_NETMASK, "INVALID_NETMASK"},
    {SOAP_STATUS_UNSUPPORTED_OEM_NUMBER, "UNSUPPORTED_OEM_NUMBER"},
    {SOAP_STATUS_INVALID_COMMAND, "INVALID_COMMAND"},
    {SOAP_STATUS_INVALID_SPECIAL_COMMAND, "INVALID_SPECIAL_COMMAND"},
    {SOAP_STATUS_INVALID_HANDLE, "INVALID_HANDLE"},
    {SOAP_STATUS_INVALID_REALM, "INVALID_REALM"},
    {SOAP_STATUS_DATA_MISSING, "DATA_MISSING"},
    {SOAP_STATUS_DUPLICATE, "DUPLICATE"},
    {SOAP_STATUS_INVALID_KEY, "INVALID_KEY"},
    {SOAP_STATUS_CERT_KEY_NOT_MATCH, "CERT_KEY_NOT_MATCH"},
};

/* Local parts of faultcode, indexed by enum soap_fault_code. */
static const char *const fault_names[] = {
    [SOAP_FAULT_VERSION_MISMATCH] = "VersionMismatch",
    [SOAP_FAULT_MUST_UNDERSTAND] = "MustUnderstand",
    [SOAP_FAULT_CLIENT] = "Client",
    [SOAP_FAULT_SERVER] = "Server",
};

const char *
soap_status_name(uint32_t status)
{
    for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
        if (status_names[i].code == status)
            return status_names[i].name;
    return "UNKNOWN";
}

static bool
all_alnum(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static int
print_fits(int n, size_t size)
{
    return n >= 0 && (size_t)n < size ? 0 : AMT_ERR_TOO_LARGE;
}

int
soap_service_ns(const char *service, const char *version, char *buf, size_t size)
{
    if (version == NULL)
        version = SOAP_AMT_NS_VERSION;
    if (!all_alnum(service) || buf == NULL || *version == '\0' ||
        strspn(version, "0123456789/") != strlen(version))
        return AMT_ERR_INVALID_ARGUMENT;
    return print_fits(
        snprintf(buf, size, "%s%s/%s", SOAP_AMT_NS_PREFIX, service, version), size);
}

int
soap_service_path(const char *service, char *buf, size_t size)
{
    if (!all_alnum(service) || buf == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    return print_fits(snprintf(buf, size, "/%sService", service), size);
}

int
soap_action(const char *ns, const char *method, char *buf, size_t size)
{
    if (ns == NULL || *ns == '\0' || strchr(ns, '"') != NULL || method == NULL ||
        xmlValidateNCName((const xmlChar *)method, 0) != 0 || buf == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    return print_fits(snprintf(buf, size, "\"%s#%s\"", ns, method), size);
}

int
soap_envelope(xmlDocPtr doc, const char *env_ns, xmlNodePtr *header, xmlNodePtr *body)
{
    xmlNodePtr root, first, hdr = NULL;

    if (header != NULL)
        *header = NULL;
    if (body != NULL)
        *body = NULL;
    if (doc == NULL || env_ns == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    root = xmlDocGetRootElement(doc);
    if (!xmlsafe_is(root, env_ns, "Envelope"))
        return AMT_ERR_SOAP_ENVELOPE;
    first = xmlsafe_child(root, NULL, NULL);
    if (xmlsafe_is(first, env_ns, "Header")) {
        hdr = first;
        first = xmlsafe_next(first, NULL, NULL);
    }
    if (!xmlsafe_is(first, env_ns, "Body"))
        return AMT_ERR_SOAP_ENVELOPE;
    if (header != NULL)
        *header = hdr;
    if (body != NULL)
        *body = first;
    return 0;
}

/* An empty <soap:Envelope><soap:Body/></soap:Envelope>. */
static int
msg_new(struct soap_msg **out, xmlNsPtr *env_ns, xmlNodePtr *body)
{
    struct soap_msg *m = NULL;
    xmlNodePtr env;
    xmlNsPtr ns;
    int r = AMT_ERR_ALLOC;

    *out = NULL;
    if ((m = calloc(1, sizeof(*m))) == NULL)
        goto out;
    if ((m->doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL ||
        (env = xmlNewDocNode(m->doc, NULL, (const xmlChar *)"Envelope", NULL)) == NULL)
        goto out;
    xmlDocSetRootElement(m->doc, env);
    if ((ns = xmlNewNs(env, (const xmlChar *)SOAP11_ENV_NS, (const xmlChar *)"soap")) ==
        NULL)
        goto out;
    xmlSetNs(env, ns);
    if ((*body = xmlNewChild(env, ns, (const xmlChar *)"Body", NULL)) == NULL)
        goto out;
    *env_ns = ns;
    *out = m;
    m = NULL;
    r = 0;
out:
    soap_msg_free(m);
    return r;
}

/* <name xmlns="ns"/> in the body: the parameters then share its namespace. */
static int
add_payload(struct soap_msg *m, xmlNodePtr body, const char *ns, const char *name)
{
    xmlNodePtr node;
    xmlNsPtr nsp;

    if ((node = xmlNewDocNode(m->doc, NULL, (const xmlChar *)name, NULL)) == NULL)
        return AMT_ERR_ALLOC;
    xmlAddChild(body, node);
    if ((nsp = xmlNewNs(node, (const xmlChar *)ns, NULL)) == NULL)
        return AMT_ERR_ALLOC;
    xmlSetNs(node, nsp);
    m->payload = node;
    return 0;
}

int
soap_request_new(const char *ns, const char *method, struct soap_msg **out)
{
    struct soap_msg *m = NULL;
    xmlNodePtr body;
    xmlNsPtr env_ns;
    char action[1024];
    int r = AMT_ERR_INTERNAL;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!xmlsafe_ns_declarable(ns))
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = soap_action(ns, method, action, sizeof(action))) != 0)
        return r;
    if ((r = msg_new(&m, &env_ns, &body)) != 0 ||
        (r = add_payload(m, body, ns, method)) != 0)
        goto out;
    if ((m->action = strdup(action)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    *out = m;
    m = NULL;
    r = 0;
out:
    soap_msg_free(m);
    return r;
}

int
soap_response_new(const char *ns, const char *method, uint32_t status,
                  struct soap_msg **out)
{
    struct soap_msg *m = NULL;
    xmlNodePtr body;
    xmlNsPtr env_ns;
    char name[256], value[16];
    int r = AMT_ERR_INTERNAL;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!xmlsafe_ns_declarable(ns) || method == NULL ||
        snprintf(name, sizeof(name), "%sResponse", method) >= (int)sizeof(name) ||
        xmlValidateNCName((const xmlChar *)name, 0) != 0)
        return AMT_ERR_INVALID_ARGUMENT;
    snprintf(value, sizeof(value), "%u", (unsigned)status);
    if ((r = msg_new(&m, &env_ns, &body)) != 0 ||
        (r = add_payload(m, body, ns, name)) != 0 ||
        (r = xmlsafe_add_child(m->payload, NULL, "StatusCode", value, NULL)) != 0)
        goto out;
    *out = m;
    m = NULL;
    r = 0;
out:
    soap_msg_free(m);
    return r;
}

int
soap_fault_new(enum soap_fault_code code, const char *faultstring, struct soap_msg **out)
{
    struct soap_msg *m = NULL;
    xmlNodePtr body, fault;
    xmlNsPtr env_ns;
    char qname[64];
    int r = AMT_ERR_INTERNAL;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (code < SOAP_FAULT_VERSION_MISMATCH || code > SOAP_FAULT_SERVER ||
        faultstring == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = msg_new(&m, &env_ns, &body)) != 0)
        goto out;
    if ((fault = xmlNewChild(body, env_ns, (const xmlChar *)"Fault", NULL)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    /* faultcode and faultstring are unqualified in SOAP 1.1. */
    snprintf(qname, sizeof(qname), "%s:%s", (const char *)env_ns->prefix,
             fault_names[code]);
    if ((r = xmlsafe_add_child(fault, "", "faultcode", qname, NULL)) != 0 ||
        (r = xmlsafe_add_child(fault, "", "faultstring", faultstring, NULL)) != 0)
        goto out;
    *out = m;
    m = NULL;
    r = 0;
out:
    soap_msg_free(m);
    return r;
}

int
soap_msg_add(struct soap_msg *m, xmlNodePtr parent, const char *name, const char *value,
             xmlNodePtr *out)
{
    if (out != NULL)
        *out = NULL;
    if (m == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (parent == NULL)
        parent = m->payload;
    if (parent == NULL || parent->doc != m->doc)
        return AMT_ERR_INVALID_ARGUMENT;
    return xmlsafe_add_child(parent, NULL, name, value, out);
}

const char *
soap_msg_action(const struct soap_msg *m)
{
    return m != NULL ? m->action : NULL;
}

int
soap_msg_text(const struct soap_msg *m, char **text, size_t *len)
{
    if (m == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    return xmlsafe_serialize(m->doc, text, len);
}

void
soap_msg_free(struct soap_msg *m)
{
    if (m == NULL)
        return;
    xmlFreeDoc(m->doc);
    free(m->action);
    free(m);
}

/*
 * The one element in the Body of a request:
 *   <soap:Body><GetCoreVersion xmlns="http://.../SecurityAdministration/2004/01"/>
 */
int
soap_call_parse(xmlDocPtr doc, struct soap_call *out)
{
    xmlNodePtr body, method;
    int r;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if ((r = soap_envelope(doc, SOAP11_ENV_NS, NULL, &body)) != 0)
        return r;
    method = xmlsafe_child(body, NULL, NULL);
    if (method == NULL || xmlsafe_next(method, NULL, NULL) != NULL ||
        xmlsafe_is(method, SOAP11_ENV_NS, "Fault"))
        return AMT_ERR_SOAP_MESSAGE;
    out->method = method;
    out->name = (const char *)method->name;
    out->ns = xmlsafe_ns(method);
    return 0;
}

xmlNodePtr
soap_call_param(const struct soap_call *c, const char *name)
{
    if (c == NULL || c->method == NULL || name == NULL)
        return NULL;
    /* Some clients qualify parameters, others do not: take either. */
    for (xmlNodePtr p = xmlsafe_child(c->method, NULL, name); p != NULL;
         p = xmlsafe_next(p, NULL, name)) {
        const char *ns = xmlsafe_ns(p);

        if (ns == NULL || (c->ns != NULL && strcmp(ns, c->ns) == 0))
            return p;
    }
    return NULL;
}

int
soap_call_param_text(const struct soap_call *c, const char *name, char *buf, size_t size)
{
    xmlNodePtr p;

    if (buf == NULL || size == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    buf[0] = '\0';
    if ((p = soap_call_param(c, name)) == NULL)
        return AMT_ERR_NOT_FOUND;
    return xmlsafe_text(p, buf, size);
}

bool
soap_call_action_matches(const struct soap_call *c, const char *soapaction)
{
    size_t len, ns_len;

    if (c == NULL || c->ns == NULL || c->name == NULL || soapaction == NULL)
        return false;
    len = strlen(soapaction);
    if (len >= 2 && soapaction[0] == '"' && soapaction[len - 1] == '"') {
        soapaction++;
        len -= 2;
    }
    ns_len = strlen(c->ns);
    return len == ns_len + 1 + strlen(c->name) &&
           strncmp(soapaction, c->ns, ns_len) == 0 && soapaction[ns_len] == '#' &&
           strncmp(soapaction + ns_len + 1, c->name, len - ns_len - 1) == 0;
}

/*
 * <soap:Fault><faultcode>soap:Client</faultcode><faultstring>...</faultstring>
 * The code is a QName: its prefix is resolved where it is written.
 */
static void
parse_fault(xmlNodePtr fault, struct soap_reply *out)
{
    xmlNodePtr code = xmlsafe_child(fault, NULL, "faultcode");
    xmlNodePtr string = xmlsafe_child(fault, NULL, "faultstring");
    const char *local;
    char *colon;
    xmlNsPtr ns;

    out->fault = SOAP_FAULT_OTHER;
    if (string != NULL)
        xmlsafe_text_cut(string, out->faultstring, sizeof(out->faultstring));
    if (code == NULL || xmlsafe_text(code, out->faultcode, sizeof(out->faultcode)) != 0)
        return;
    if ((colon = strchr(out->faultcode, ':')) != NULL) {
        *colon = '\0';
        ns = xmlSearchNs(code->doc, code, (const xmlChar *)out->faultcode);
        *colon = ':';
        local = colon + 1;
    } else {
        ns = xmlSearchNs(code->doc, code, NULL);
        local = out->faultcode;
    }
    if (ns == NULL || strcmp((const char *)ns->href, SOAP11_ENV_NS) != 0)
        return;
    for (int f = SOAP_FAULT_VERSION_MISMATCH; f <= SOAP_FAULT_SERVER; f++) {
        size_t n = strlen(fault_names[f]);

        /* "Client.Authentication" is a more precise Client. */
        if (strncmp(local, fault_names[f], n) == 0 &&
            (local[n] == '\0' || local[n] == '.'))
            out->fault = (enum soap_fault_code)f;
    }
}

/*
 * <soap:Body><h:GetCoreVersionResponse xmlns:h="...">
 *   <h:StatusCode>0</h:StatusCode><h:Version>7.1.20</h:Version>
 */
int
soap_reply_parse(xmlDocPtr doc, const char *ns, const char *method,
                 struct soap_reply *out)
{
    xmlNodePtr body, resp;
    size_t n;
    int r;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if ((r = soap_envelope(doc, SOAP11_ENV_NS, NULL, &body)) != 0)
        return r;
    if ((resp = xmlsafe_child(body, NULL, NULL)) == NULL)
        return AMT_ERR_SOAP_MESSAGE;
    if (xmlsafe_is(resp, SOAP11_ENV_NS, "Fault")) {
        parse_fault(resp, out);
        return AMT_ERR_SOAP_FAULT;
    }
    if (method != NULL) {
        n = strlen(method);
        if (strncmp((const char *)resp->name, method, n) != 0 ||
            strcmp((const char *)resp->name + n, "Response") != 0)
            return AMT_ERR_SOAP_MESSAGE;
    }
    if (ns != NULL && !xmlsafe_is(resp, ns, NULL))
        return AMT_ERR_SOAP_MESSAGE;
    if (xmlsafe_text_u32(xmlsafe_child(resp, NULL, NULL), &out->status) != 0)
        return AMT_ERR_SOAP_MESSAGE;
    out->response = resp;
    return 0;
}

xmlNodePtr
soap_reply_get(const struct soap_reply *r, const char *name)
{
    if (r == NULL || name == NULL)
        return NULL;
    return xmlsafe_child(r->response, NULL, name);
}

xmlNodePtr
soap_reply_get_at(const struct soap_reply *r, size_t index)
{
    xmlNodePtr p;

    if (r == NULL)
        return NULL;
    for (p = xmlsafe_child(r->response, NULL, NULL); p != NULL && index > 0; index--)
        p = xmlsafe_next(p, NULL, NULL);
    return p;
}
