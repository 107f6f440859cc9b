/*
 * The helpers every WS-Management class uses: faults and replies, instances
 * written property by property, input read with caps and checked against a
 * parameter list, endpoint references, base64, the phase 2 flash keys and events.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "wsman_classes.h"
#include "xmlsafe.h"

static int vfault(struct ws_req *w, enum wsman_fault f, const char *why, const char *fmt,
                  va_list ap) AMT_PRINTF(4, 0);

static int
vfault(struct ws_req *w, enum wsman_fault f, const char *why, const char *fmt, va_list ap)
{
    /* the first fault is the one the client must hear about */
    if (w->fault != WSMAN_FAULT_NONE)
        return AMT_ERR_SOAP_FAULT;
    w->fault = f;
    if (why != NULL)
        w->why = why;
    vsnprintf(w->fault_reason, sizeof(w->fault_reason), fmt, ap);
    return AMT_ERR_SOAP_FAULT;
}

int
ws_fault(struct ws_req *w, enum wsman_fault f, const char *why, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vfault(w, f, why, fmt, ap);
    va_end(ap);
    return r;
}

int
ws_schema(struct ws_req *w, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vfault(w, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, "schema-validation-error", fmt,
               ap);
    va_end(ap);
    return r;
}

int
ws_return(struct ws_req *w, uint32_t rv, const char *why)
{
    int r;

    if (w->reply != NULL)
        return AMT_ERR_INTERNAL;
    if ((r = wsman_invoke_response_new(w->call, rv, &w->reply)) != 0)
        return r;
    w->invoked = true;
    w->return_value = rv;
    if (rv != 0 && why != NULL)
        w->why = why;
    return 0;
}

void
ws_out_reply(struct ws_req *w, struct ws_out *o)
{
    memset(o, 0, sizeof(*o));
    o->m = w->reply;
}

static bool
out_collect(struct ws_out *o, const char *name)
{
    if (o->err != 0)
        return true;
    if (o->m != NULL)
        return false;
    if (o->n_names < WS_PROPS_MAX)
        o->names[o->n_names++] = name;
    else
        o->err = AMT_ERR_TOO_LARGE;
    return true;
}

void
ws_prop(struct ws_out *o, const char *name, const char *value)
{
    if (out_collect(o, name))
        return;
    o->err = wsman_msg_add(o->m, o->parent, name, value != NULL ? value : "", NULL);
}

void
ws_propf(struct ws_out *o, const char *name, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    ws_prop(o, name, buf);
}

void
ws_prop_bool(struct ws_out *o, const char *name, bool value)
{
    ws_prop(o, name, value ? "true" : "false");
}

void
ws_prop_u32(struct ws_out *o, const char *name, uint32_t value)
{
    ws_propf(o, name, "%u", (unsigned)value);
}

void
ws_prop_keys(struct ws_out *o, const struct ws_inst *inst)
{
    for (size_t i = 0; i < inst->n_keys; i++)
        ws_prop(o, inst->keys[i].name, inst->keys[i].value);
}

void
ws_prop_epr(struct ws_out *o, const char *name, const char *class_name,
            const struct ws_key *keys, size_t n_keys)
{
    char uri[WSMAN_URI_MAX];
    xmlNodePtr epr, ref, set, sel;

    if (out_collect(o, name))
        return;
    if ((o->err = wsman_class_uri(class_name, uri, sizeof(uri))) != 0 ||
        (o->err = wsman_msg_add(o->m, o->parent, name, NULL, &epr)) != 0 ||
        (o->err = wsman_msg_add_ns(o->m, epr, WSMAN_WSA_NS, "Address", WSMAN_ANONYMOUS,
                                   NULL)) != 0 ||
        (o->err = wsman_msg_add_ns(o->m, epr, WSMAN_WSA_NS, "ReferenceParameters", NULL,
                                   &ref)) != 0 ||
        (o->err = wsman_msg_add_ns(o->m, ref, WSMAN_NS, "ResourceURI", uri, NULL)) != 0 ||
        (o->err = wsman_msg_add_ns(o->m, ref, WSMAN_NS, "SelectorSet", NULL, &set)) != 0)
        return;
    for (size_t i = 0; i < n_keys; i++) {
        if ((o->err = wsman_msg_add_ns(o->m, set, WSMAN_NS, "Selector", keys[i].value,
                                       &sel)) != 0)
            return;
        if (xmlNewProp(sel, (const xmlChar *)"Name", (const xmlChar *)keys[i].name) ==
            NULL) {
            o->err = AMT_ERR_ALLOC;
            return;
        }
    }
}

void
ws_inst_key(struct ws_inst *inst, const char *name, const char *fmt, ...)
{
    va_list ap;

    if (inst->n_keys >= WS_KEYS_MAX)
        return;
    inst->keys[inst->n_keys].name = name;
    va_start(ap, fmt);
    vsnprintf(inst->keys[inst->n_keys].value, sizeof(inst->keys[0].value), fmt, ap);
    va_end(ap);
    inst->n_keys++;
}

void
ws_service_inst(struct ws_inst *inst, const char *class_name, const char *name)
{
    memset(inst, 0, sizeof(*inst));
    snprintf(inst->id, sizeof(inst->id), "%s", name);
    ws_inst_key(inst, "CreationClassName", "%s", class_name);
    ws_inst_key(inst, "Name", "%s", name);
    ws_inst_key(inst, "SystemCreationClassName", "%s", WS_SYSTEM_CLASS);
    ws_inst_key(inst, "SystemName", "%s", WS_SYSTEM_NAME);
}

xmlNodePtr
ws_child(const xmlNode *parent, const char *name)
{
    return parent != NULL ? xmlsafe_child(parent, NULL, name) : NULL;
}

int
ws_check_params(struct ws_req *w, const xmlNode *parent, const char *ns,
                const struct ws_param *params, size_t n_params)
{
    for (xmlNodePtr c = xmlsafe_child(parent, NULL, NULL); c != NULL;
         c = xmlsafe_next(c, NULL, NULL)) {
        const struct ws_param *p = NULL;

        for (size_t i = 0; i < n_params && p == NULL; i++)
            if (strcmp((const char *)c->name, params[i].name) == 0)
                p = &params[i];
        if (p == NULL || (ns != NULL && !xmlsafe_is(c, ns, NULL)))
            return ws_schema(w, "unexpected element %.64s in %.64s",
                             (const char *)c->name, (const char *)parent->name);
        if (!p->multi && xmlsafe_next(c, NULL, p->name) != NULL)
            return ws_schema(w, "%s given twice", p->name);
    }
    return 0;
}

int
ws_in_text(struct ws_req *w, const xmlNode *parent, const char *name, char *buf,
           size_t size, bool *present)
{
    xmlNodePtr node = ws_child(parent, name);

    buf[0] = '\0';
    *present = node != NULL;
    if (node == NULL)
        return 0;
    if (xmlsafe_child(node, NULL, NULL) != NULL)
        return ws_schema(w, "%s must hold text, not elements", name);
    if (xmlsafe_text(node, buf, size) != 0)
        return ws_schema(w, "%s longer than %zu bytes", name, size - 1);
    return 0;
}

int
ws_in_u32(struct ws_req *w, const xmlNode *parent, const char *name, uint32_t *out,
          bool *present)
{
    xmlNodePtr node = ws_child(parent, name);

    *present = node != NULL;
    if (node == NULL)
        return 0;
    if (xmlsafe_child(node, NULL, NULL) != NULL || xmlsafe_text_u32(node, out) != 0)
        return ws_schema(w, "%s must be a number from 0 to 4294967295", name);
    return 0;
}

int
ws_in_bool(struct ws_req *w, const xmlNode *parent, const char *name, bool *out,
           bool *present)
{
    char buf[8];
    int r;

    if ((r = ws_in_text(w, parent, name, buf, sizeof(buf), present)) != 0)
        return r;
    if (!*present)
        return 0;
    if (strcmp(buf, "true") == 0 || strcmp(buf, "1") == 0)
        *out = true;
    else if (strcmp(buf, "false") == 0 || strcmp(buf, "0") == 0)
        *out = false;
    else
        return ws_schema(w, "%s must be true or false", name);
    return 0;
}

int
ws_missing(struct ws_req *w, const char *name)
{
    return ws_schema(w, "%s is required", name);
}

/*
 * <h:ClientCredential><a:Address>default</a:Address><a:ReferenceParameters>
 *   <w:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/AMT_PublicKeyCertificate
 *   </w:ResourceURI><w:SelectorSet><w:Selector Name="InstanceID">..</w:Selector>
 */
int
ws_epr_selector(const xmlNode *epr, const char *class_name, const char *selector,
                char *buf, size_t size)
{
    char uri[WSMAN_URI_MAX], want[WSMAN_URI_MAX];
    xmlNodePtr ref, set;

    buf[0] = '\0';
    if (epr == NULL ||
        (ref = xmlsafe_child(epr, WSMAN_WSA_NS, "ReferenceParameters")) == NULL ||
        xmlsafe_text(xmlsafe_child(ref, WSMAN_NS, "ResourceURI"), uri, sizeof(uri)) !=
            0 ||
        wsman_class_uri(class_name, want, sizeof(want)) != 0 || strcmp(uri, want) != 0 ||
        (set = xmlsafe_child(ref, WSMAN_NS, "SelectorSet")) == NULL)
        return AMT_ERR_NOT_FOUND;
    for (xmlNodePtr sel = xmlsafe_child(set, WSMAN_NS, "Selector"); sel != NULL;
         sel = xmlsafe_next(sel, WSMAN_NS, "Selector")) {
        xmlChar *name = xmlGetNoNsProp(sel, (const xmlChar *)"Name");
        bool match = name != NULL && strcmp((const char *)name, selector) == 0;

        xmlFree(name);
        if (match)
            return xmlsafe_text(sel, buf, size) == 0 ? 0 : AMT_ERR_NOT_FOUND;
    }
    return AMT_ERR_NOT_FOUND;
}

void
ws_wipe_text(xmlNodePtr node)
{
    if (node == NULL)
        return;
    for (xmlNodePtr c = node->children; c != NULL; c = c->next) {
        if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) ||
            c->content == NULL)
            continue;
        /* short strings may be shared in the parser's dictionary: not ours to wipe */
        if (node->doc != NULL && node->doc->dict != NULL &&
            xmlDictOwns(node->doc->dict, c->content))
            continue;
        OPENSSL_cleanse(c->content, strlen((const char *)c->content));
    }
}

static bool
is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

int
ws_base64_decode(const char *in, unsigned char **out, size_t *out_len, size_t max)
{
    size_t len = strlen(in), n = 0, pad = 0;
    unsigned char *buf = NULL;
    char *clean = NULL;
    int got, r = AMT_ERR_ALLOC;

    *out = NULL;
    *out_len = 0;
    if ((clean = malloc(len + 1)) == NULL)
        goto out;
    r = AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=')
            pad++;
        else if (!is_b64(c) || pad > 0)
            goto out;
        clean[n++] = c;
    }
    clean[n] = '\0';
    if (n == 0 || n % 4 != 0 || pad > 2)
        goto out;
    if (n / 4 * 3 - pad > max) {
        r = AMT_ERR_TOO_LARGE;
        goto out;
    }
    r = AMT_ERR_ALLOC;
    if ((buf = malloc(n / 4 * 3 + 1)) == NULL)
        goto out;
    r = AMT_ERR_INVALID_ARGUMENT;
    if ((got = EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)n)) < 0 ||
        (size_t)got != n / 4 * 3)
        goto out;
    *out_len = (size_t)got - pad;
    *out = buf;
    buf = NULL;
    r = 0;
out:
    if (clean != NULL)
        OPENSSL_cleanse(clean, n);
    free(clean);
    free(buf);
    return r;
}

int
ws_base64_encode(const unsigned char *in, size_t len, char **out)
{
    char *buf;

    *out = NULL;
    if (len > SIM_FLASH_VALUE_MAX)
        return AMT_ERR_TOO_LARGE;
    if ((buf = malloc((len + 2) / 3 * 4 + 1)) == NULL)
        return AMT_ERR_ALLOC;
    EVP_EncodeBlock((unsigned char *)buf, in, (int)len);
    *out = buf;
    return 0;
}

int
ws_p2_key(char *buf, size_t size, const char *fmt, ...)
{
    size_t prefix = strlen(SIM_FLASH_P2_PREFIX);
    va_list ap;
    int n;

    if (size <= prefix)
        return AMT_ERR_TOO_LARGE;
    memcpy(buf, SIM_FLASH_P2_PREFIX, prefix);
    va_start(ap, fmt);
    n = vsnprintf(buf + prefix, size - prefix, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size - prefix ? 0 : AMT_ERR_TOO_LARGE;
}

const char *
ws_p2_get(struct ws_req *w, const char *name)
{
    char key[SIM_FLASH_KEY_MAX + 1];

    if (ws_p2_key(key, sizeof(key), "%s", name) != 0)
        return NULL;
    return sim_flash_get(sim_device_flash(w->dev), key);
}

unsigned long
ws_p2_u(struct ws_req *w, const char *name, unsigned long dflt)
{
    const char *v = ws_p2_get(w, name);
    char *end;
    unsigned long n;

    if (v == NULL || *v < '0' || *v > '9')
        return dflt;
    n = strtoul(v, &end, 10);
    return *end == '\0' ? n : dflt;
}

int
ws_p2_set(struct ws_req *w, const char *name, const char *value)
{
    char key[SIM_FLASH_KEY_MAX + 1];
    int r;

    if ((r = ws_p2_key(key, sizeof(key), "%s", name)) != 0)
        return r;
    return sim_flash_set(sim_device_flash(w->dev), key, value);
}

int
ws_p2_set_u(struct ws_req *w, const char *name, unsigned long value)
{
    char text[24];

    snprintf(text, sizeof(text), "%lu", value);
    return ws_p2_set(w, name, text);
}

int
ws_p2_commit(struct ws_req *w)
{
    struct sim_flash *flash = sim_device_flash(w->dev);
    int r;

    if ((r = sim_flash_commit(flash)) != 0)
        sim_flash_rollback(flash);
    return r;
}

const char *
ws_step_id(const struct sim_device *dev, const char *oob_id)
{
    static const struct {
        const char *oob, *ib;
    } map[] = {
        {"OOB-8.1", "IB-11.1"},
        {"OOB-8.3", "IB-11.2"},
        {"OOB-8.4", "IB-11.3"},
    };

    /* an OTP set over the host interface marks an in-band session (device.c too) */
    if (sim_device_otp(dev) == NULL)
        return oob_id;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].oob, oob_id) == 0)
            return map[i].ib;
    return oob_id;
}

void
ws_event_refused(const char *id, int r)
{
    fprintf(stderr, "amt-sim: event %s not logged: %s\n", id, amt_strerror(r));
}
