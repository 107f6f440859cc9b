/*
 * WS-Management at POST /wsman: what every class shares. A request goes through
 *
 *   version has WS-Management?  no: 404, as AMT 2.x has no /wsman
 *   xmlsafe_parse_detail        malformed, DOCTYPE, entities: SchemaValidationError
 *   wsman_call_parse            headers, selectors, body shape: its fault
 *   class by ResourceURI        unknown: DestinationUnreachable
 *   class in this version?      no: DestinationUnreachable and the catalogue event
 *   action or method known?     no: ActionNotSupported
 *   rights                      missing: AccessDenied
 *   state rule                  a change before CommitChanges outside the
 *                               provisioning session: AccessDenied
 *   selectors                   no single instance: InvalidSelectors
 *   the class's own handler
 *
 * and ends in one X-sim.wsman event. Faults with a Sender code answer HTTP 400,
 * with a Receiver code HTTP 500 (the SOAP 1.2 HTTP binding, which WS-Management
 * over HTTP follows).
 *
 * The class for a version that lacks it (802.1X, wireless or audit before 4.0) is
 * wsa:DestinationUnreachable, not wsman:UnsupportedFeature: on such firmware the
 * class does not exist, and DSP0226 keeps UnsupportedFeature for WS-Management
 * features (filters, fragments, ...), which is what an Enumerate with a Filter gets.
 *
 * WS-Transfer Delete is not among the actions lib/wsman.h reads, so a Delete is
 * read as the Get it resembles (same headers, no body) and answered here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soap.h"
#include "wsman_classes.h"
#include "xmlsafe.h"

#define WS_CONTENT_TYPE "application/soap+xml;charset=UTF-8"
#define WS_ACTION_DELETE WSMAN_WXF_NS "/Delete"
#define WS_ACTION_DELETE_RESPONSE WSMAN_WXF_NS "/DeleteResponse"
#define WS_MAX_DEPTH 32 /* a WS-Man message nests a dozen levels at most */

/*
 * Enumeration contexts live in RAM, as on the firmware: a few per device, the
 * oldest dropped for a new one, and each expires when left unused (virtual time).
 * [assumption] 16 per device and a 120 s idle life: no public source gives AMT's.
 */
#define WS_ENUM_PER_DEVICE 16
#define WS_ENUM_TOTAL 1024
#define WS_ENUM_IDLE_SECONDS 120.0
#define WS_PULL_MAX 32

static const struct ws_class *const classes[] = {
    &ws_general_settings,
    &ws_redirection_service,
    &ws_web_ui_service,
    &ws_kerberos_setting_data,
    &ws_system_power_scheme,
    &ws_element_setting_data,
    &ws_tls_setting_data,
    &ws_time_synchronization_service,
    &ws_setup_and_configuration_service,
    &ws_power_management_service,
    &ws_associated_power_management_service,
    &ws_audit_log,
    &ws_authorization_service,
    &ws_wifi_port_configuration_service,
    &ws_wifi_endpoint_settings,
    &ws_8021x_profile,
    &ws_public_key_management_service,
    &ws_public_key_certificate,
};

struct ws_enum {
    const struct sim_device *dev;
    char uuid[40]; /* with dev: a device freed and another at its address differ */
    char context[WSMAN_MESSAGE_ID_LEN + 1];
    const struct ws_class *cls;
    double expires;
    unsigned long serial;
    size_t pos, n;
    char ids[WS_INSTANCES_MAX][WS_ID_MAX];
};

static struct ws_enum *enums[WS_ENUM_TOTAL];
static unsigned long enum_serial;

static bool
enum_of(const struct ws_enum *e, const struct sim_device *dev)
{
    return e != NULL && e->dev == dev && strcmp(e->uuid, sim_device_uuid_text(dev)) == 0;
}

static void
enum_drop(size_t i)
{
    free(enums[i]);
    enums[i] = NULL;
}

void
sim_wsman_forget_device(const struct sim_device *dev)
{
    for (size_t i = 0; i < WS_ENUM_TOTAL; i++)
        if (enums[i] != NULL && enums[i]->dev == dev)
            enum_drop(i);
}

void
sim_wsman_forget_all(void)
{
    for (size_t i = 0; i < WS_ENUM_TOTAL; i++)
        enum_drop(i);
}

/* Only dev's own contexts are aged here: another device may be gone already. */
static void
enum_expire(const struct sim_device *dev)
{
    double now = sim_device_now(dev);

    for (size_t i = 0; i < WS_ENUM_TOTAL; i++)
        if (enum_of(enums[i], dev) && enums[i]->expires <= now)
            enum_drop(i);
}

/* A free slot: the device's oldest goes when it has its share, else the oldest. */
static size_t
enum_slot(const struct sim_device *dev)
{
    size_t mine = 0, free_slot = WS_ENUM_TOTAL, oldest = 0, oldest_mine = WS_ENUM_TOTAL;

    for (size_t i = 0; i < WS_ENUM_TOTAL; i++) {
        if (enums[i] == NULL) {
            if (free_slot == WS_ENUM_TOTAL)
                free_slot = i;
            continue;
        }
        if (enums[oldest] == NULL || enums[i]->serial < enums[oldest]->serial)
            oldest = i;
        if (enum_of(enums[i], dev)) {
            mine++;
            if (oldest_mine == WS_ENUM_TOTAL ||
                enums[i]->serial < enums[oldest_mine]->serial)
                oldest_mine = i;
        }
    }
    if (mine >= WS_ENUM_PER_DEVICE) {
        enum_drop(oldest_mine);
        return oldest_mine;
    }
    if (free_slot != WS_ENUM_TOTAL)
        return free_slot;
    enum_drop(oldest);
    return oldest;
}

static struct ws_enum *
enum_find(const struct sim_device *dev, const char *context, size_t *slot)
{
    for (size_t i = 0; i < WS_ENUM_TOTAL; i++) {
        if (enum_of(enums[i], dev) && strcmp(enums[i]->context, context) == 0) {
            *slot = i;
            return enums[i];
        }
    }
    return NULL;
}

static const struct ws_class *
class_by_uri(const char *uri)
{
    const char *name = wsman_class_name(uri);
    char want[WSMAN_URI_MAX];

    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < N_ELEMS(classes); i++) {
        if (strcmp(classes[i]->name, name) != 0 ||
            wsman_class_uri(classes[i]->name, want, sizeof(want)) != 0)
            continue;
        return strcmp(want, uri) == 0 ? classes[i] : NULL;
    }
    return NULL;
}

static bool
fault_is_receiver(enum wsman_fault f)
{
    return f == WSMAN_FAULT_ENDPOINT_UNAVAILABLE || f == WSMAN_FAULT_INTERNAL_ERROR ||
           f == WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT || f == WSMAN_FAULT_TIMED_OUT;
}

/* The event's reason for a fault nobody named more precisely. */
static const char *
fault_why(enum wsman_fault f)
{
    static const struct {
        enum wsman_fault fault;
        const char *why;
    } rows[] = {
        {WSMAN_FAULT_ACCESS_DENIED, "access-denied"},
        {WSMAN_FAULT_ACTION_NOT_SUPPORTED, "action-not-supported"},
        {WSMAN_FAULT_DESTINATION_UNREACHABLE, "destination-unreachable"},
        {WSMAN_FAULT_ENDPOINT_UNAVAILABLE, "endpoint-unavailable"},
        {WSMAN_FAULT_INTERNAL_ERROR, "internal-error"},
        {WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, "invalid-enumeration-context"},
        {WSMAN_FAULT_INVALID_MESSAGE_INFORMATION_HEADER, "invalid-header"},
        {WSMAN_FAULT_INVALID_SELECTORS, "invalid-selectors"},
        {WSMAN_FAULT_MESSAGE_INFORMATION_HEADER_REQUIRED, "header-required"},
        {WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, "schema-validation-error"},
        {WSMAN_FAULT_TIMED_OUT, "timed-out"},
        {WSMAN_FAULT_UNSUPPORTED_FEATURE, "unsupported-feature"},
    };

    for (size_t i = 0; i < N_ELEMS(rows); i++)
        if (rows[i].fault == f)
            return rows[i].why;
    return "fault";
}

static const char *
kind_name(const struct ws_req *w)
{
    if (w->is_delete)
        return "delete";
    switch (w->call != NULL ? w->call->kind : WSMAN_UNKNOWN) {
    case WSMAN_GET:
        return "get";
    case WSMAN_PUT:
        return "put";
    case WSMAN_ENUMERATE:
        return "enumerate";
    case WSMAN_PULL:
        return "pull";
    case WSMAN_INVOKE:
        return "invoke";
    default:
        return "unknown";
    }
}

static void
request_event(const struct ws_req *w, int status)
{
    struct evlog_field f[8];
    size_t n = 0;
    bool ok = status == 200 && (!w->invoked || w->return_value == 0);
    const char *why = w->why;
    int r;

    if (!ok && why == NULL)
        why = w->fault != WSMAN_FAULT_NONE ? fault_why(w->fault) : "return-value";
    f[n++] = (struct evlog_field)EVLOG_STR("action", kind_name(w));
    f[n++] = (struct evlog_field)EVLOG_STR("class", w->cls != NULL ? w->cls->name : "");
    f[n++] = (struct evlog_field)EVLOG_INT("status", status);
    if (w->req->user != NULL)
        f[n++] = (struct evlog_field)EVLOG_STR("user", w->req->user);
    if (w->invoked) {
        f[n++] = (struct evlog_field)EVLOG_STR("method", w->call->method);
        f[n++] = (struct evlog_field)EVLOG_INT("return-value", (int64_t)w->return_value);
    }
    if (w->fault != WSMAN_FAULT_NONE)
        f[n++] = (struct evlog_field)EVLOG_STR("fault", wsman_fault_name(w->fault));
    if (!ok)
        f[n++] = (struct evlog_field)EVLOG_REASON(why);
    r = evlog_emit_fields(sim_device_events(w->dev), sim_device_now(w->dev),
                          EVLOG_ACTOR_AMT, sim_device_uuid_text(w->dev), "X-sim.wsman",
                          ok ? EVLOG_RESULT_OK : EVLOG_RESULT_FAIL, f, n);
    if (r != 0)
        ws_event_refused("X-sim.wsman", r);
}

static int
answer_plain(struct sim_response *resp, int status, const char *text)
{
    if ((resp->body = strdup(text)) == NULL)
        return AMT_ERR_ALLOC;
    resp->status = status;
    resp->body_len = strlen(text);
    resp->content_type = "text/plain";
    return 0;
}

/*
 * <s:Body/> and the headers of a DeleteResponse: To, RelatesTo, Action, MessageID,
 * in the order lib/wsman.c writes its replies.
 */
static int
delete_response(const struct wsman_call *call, char **text, size_t *len)
{
    char id[WSMAN_MESSAGE_ID_LEN + 1];
    xmlDocPtr doc = NULL;
    xmlNodePtr env, hdr, action;
    xmlNsPtr s;
    int r = AMT_ERR_ALLOC;

    if ((r = wsman_message_id(id, sizeof(id))) != 0)
        goto out;
    r = AMT_ERR_ALLOC;
    if ((doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL ||
        (env = xmlNewDocNode(doc, NULL, (const xmlChar *)"Envelope", NULL)) == NULL)
        goto out;
    xmlDocSetRootElement(doc, env);
    if ((s = xmlNewNs(env, (const xmlChar *)WSMAN_ENV_NS, (const xmlChar *)"s")) ==
            NULL ||
        xmlNewNs(env, (const xmlChar *)WSMAN_WSA_NS, (const xmlChar *)"a") == NULL)
        goto out;
    xmlSetNs(env, s);
    if ((hdr = xmlNewChild(env, s, (const xmlChar *)"Header", NULL)) == NULL ||
        xmlNewChild(env, s, (const xmlChar *)"Body", NULL) == NULL)
        goto out;
    if ((r = xmlsafe_add_child(hdr, WSMAN_WSA_NS, "To", WSMAN_ANONYMOUS, NULL)) != 0 ||
        (r = xmlsafe_add_child(hdr, WSMAN_WSA_NS, "RelatesTo", call->message_id, NULL)) !=
            0 ||
        (r = xmlsafe_add_child(hdr, WSMAN_WSA_NS, "Action", WS_ACTION_DELETE_RESPONSE,
                               &action)) != 0 ||
        (r = xmlsafe_add_child(hdr, WSMAN_WSA_NS, "MessageID", id, NULL)) != 0)
        goto out;
    if (xmlNewNsProp(action, s, (const xmlChar *)"mustUnderstand",
                     (const xmlChar *)"true") == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    r = xmlsafe_serialize(doc, text, len);
out:
    xmlFreeDoc(doc);
    return r;
}

/* A Delete is read as a Get (see the top of the file); true when doc was one. */
static bool
rewrite_delete(xmlDocPtr doc)
{
    char text[WSMAN_URI_MAX];
    xmlNodePtr hdr = NULL, body = NULL, action;

    if (soap_envelope(doc, WSMAN_ENV_NS, &hdr, &body) != 0 || hdr == NULL)
        return false;
    action = xmlsafe_child(hdr, WSMAN_WSA_NS, "Action");
    if (action == NULL || xmlsafe_next(action, WSMAN_WSA_NS, "Action") != NULL ||
        xmlsafe_text(action, text, sizeof(text)) != 0 ||
        strcmp(text, WS_ACTION_DELETE) != 0)
        return false;
    xmlNodeSetContent(action, (const xmlChar *)WSMAN_ACTION_GET);
    return true;
}

static bool
has_right(const struct ws_req *w, unsigned any)
{
    return (w->req->rights & SIM_RIGHT_ADMIN) != 0 || (w->req->rights & any) != 0;
}

/* The instance the selectors name: all given selectors match its keys, and only its. */
static int
select_instance(struct ws_req *w, const struct ws_inst *insts, size_t n,
                const struct ws_inst **out)
{
    const struct wsman_call *c = w->call;
    size_t found = 0;

    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        bool match = true;

        for (size_t s = 0; s < c->selector_count && match; s++) {
            bool seen = false;

            for (size_t k = 0; k < insts[i].n_keys && !seen; k++)
                seen = strcmp(insts[i].keys[k].name, c->selectors[s].name) == 0 &&
                       strcmp(insts[i].keys[k].value, c->selectors[s].value) == 0;
            match = seen;
        }
        if (match) {
            found++;
            *out = &insts[i];
        }
    }
    if (found == 1)
        return 0;
    *out = NULL;
    if (found == 0)
        return ws_fault(w, WSMAN_FAULT_INVALID_SELECTORS, NULL,
                        "no instance of %s matches the selectors", w->cls->name);
    return ws_fault(w, WSMAN_FAULT_INVALID_SELECTORS, "insufficient-selectors",
                    "%s has %zu instances: a selector must name one", w->cls->name, n);
}

static int
list_instances(struct ws_req *w, struct ws_inst *insts, size_t *n)
{
    *n = 0;
    return w->cls->list(w, insts, WS_INSTANCES_MAX, n);
}

static int
do_get(struct ws_req *w, const struct ws_inst *inst)
{
    struct ws_out o;
    int r;

    if ((r = wsman_response_new(w->call, &w->reply)) != 0)
        return r;
    ws_out_reply(w, &o);
    return w->cls->render(w, inst, &o);
}

static bool
in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

static void
add_param(struct ws_param *params, size_t *n, size_t max, const char *name, bool multi)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(params[i].name, name) == 0)
            return;
    if (*n < max)
        params[(*n)++] = (struct ws_param){name, multi};
}

/* Every child of the Put instance is a property Get shows, or a write-only one. */
static int
check_put_body(struct ws_req *w, const struct ws_inst *inst)
{
    const struct ws_class *cls = w->cls;
    struct ws_param params[WS_PROPS_MAX + 16];
    struct ws_out names;
    size_t n = 0;
    int r;

    memset(&names, 0, sizeof(names));
    if ((r = cls->render(w, inst, &names)) != 0)
        return r;
    for (size_t i = 0; i < names.n_names; i++)
        add_param(params, &n, N_ELEMS(params), names.names[i],
                  in_list(cls->multi, names.names[i]));
    for (size_t i = 0; cls->write_only != NULL && cls->write_only[i] != NULL; i++)
        add_param(params, &n, N_ELEMS(params), cls->write_only[i], false);
    for (size_t i = 0; cls->multi != NULL && cls->multi[i] != NULL; i++)
        add_param(params, &n, N_ELEMS(params), cls->multi[i], true);
    return ws_check_params(w, w->call->body, w->call->resource_uri, params, n);
}

static int
do_put(struct ws_req *w, const struct ws_inst *inst)
{
    struct ws_inst *after = NULL;
    struct ws_out o;
    char id[WS_ID_MAX];
    size_t n = 0;
    int r;

    if ((r = check_put_body(w, inst)) != 0 ||
        (r = w->cls->put(w, inst, w->call->body)) != 0)
        return r;
    /* AMT answers a Put with the instance as it now is */
    snprintf(id, sizeof(id), "%s", inst->id);
    if ((after = calloc(WS_INSTANCES_MAX, sizeof(*after))) == NULL)
        return AMT_ERR_ALLOC;
    if ((r = list_instances(w, after, &n)) != 0 ||
        (r = wsman_response_new(w->call, &w->reply)) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(after[i].id, id) == 0) {
            ws_out_reply(w, &o);
            r = w->cls->render(w, &after[i], &o);
            break;
        }
    }
out:
    free(after);
    return r;
}

static int
do_enumerate(struct ws_req *w, const struct ws_inst *insts, size_t n)
{
    struct ws_enum *e = NULL;
    size_t slot;
    int r;

    /* the simulator filters nothing; a client that asks for it must know */
    if (xmlsafe_child(w->call->body, WSMAN_NS, "Filter") != NULL)
        return ws_fault(w, WSMAN_FAULT_UNSUPPORTED_FEATURE, "filter-unsupported",
                        "enumeration filters are not supported");
    if ((e = calloc(1, sizeof(*e))) == NULL)
        return AMT_ERR_ALLOC;
    e->dev = w->dev;
    snprintf(e->uuid, sizeof(e->uuid), "%s", sim_device_uuid_text(w->dev));
    e->cls = w->cls;
    e->n = n;
    for (size_t i = 0; i < n; i++)
        memcpy(e->ids[i], insts[i].id, sizeof(e->ids[i]));
    if ((r = wsman_message_id(e->context, sizeof(e->context))) != 0 ||
        (r = wsman_enumerate_response_new(w->call, e->context, &w->reply)) != 0) {
        free(e);
        return r;
    }
    enum_expire(w->dev);
    slot = enum_slot(w->dev);
    e->expires = sim_device_now(w->dev) + WS_ENUM_IDLE_SECONDS;
    e->serial = ++enum_serial;
    enums[slot] = e;
    return 0;
}

/*
 * <n:Pull><n:EnumerationContext>uuid:..</n:EnumerationContext>
 *   <n:MaxElements>2</n:MaxElements></n:Pull>
 * Items are rendered as they are now; one deleted since the Enumerate is skipped.
 */
static int
do_pull(struct ws_req *w, const struct ws_inst *insts, size_t n)
{
    xmlNodePtr max_node = xmlsafe_child(w->call->body, WSMAN_WSEN_NS, "MaxElements");
    size_t picked[WS_PULL_MAX], n_picked = 0, slot;
    uint32_t max = 1;
    struct ws_enum *e;
    bool end;
    int r;

    if (max_node != NULL && (xmlsafe_text_u32(max_node, &max) != 0 || max == 0))
        return ws_schema(w, "MaxElements must be a positive number");
    if (max > WS_PULL_MAX)
        max = WS_PULL_MAX;
    enum_expire(w->dev);
    if ((e = enum_find(w->dev, w->call->context, &slot)) == NULL || e->cls != w->cls)
        return ws_fault(w, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, NULL,
                        "the enumeration context is unknown, expired or finished");
    for (; e->pos < e->n && n_picked < max; e->pos++) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(insts[i].id, e->ids[e->pos]) == 0) {
                picked[n_picked++] = i;
                break;
            }
        }
    }
    end = e->pos >= e->n;
    if ((r = wsman_pull_response_new(w->call, end ? NULL : e->context, end, &w->reply)) !=
        0)
        return r;
    for (size_t k = 0; k < n_picked && r == 0; k++) {
        struct ws_out o;

        memset(&o, 0, sizeof(o));
        o.m = w->reply;
        if ((r = wsman_msg_item(w->reply, w->call->resource_uri, &o.parent)) == 0)
            r = w->cls->render(w, &insts[picked[k]], &o);
    }
    if (r != 0)
        return r;
    if (end)
        enum_drop(slot);
    else
        e->expires = sim_device_now(w->dev) + WS_ENUM_IDLE_SECONDS;
    return 0;
}

static const struct ws_method *
method_of(const struct ws_class *cls, const char *name)
{
    for (size_t i = 0; i < cls->n_methods; i++)
        if (strcmp(cls->methods[i].name, name) == 0)
            return &cls->methods[i];
    return NULL;
}

/* The class's version feature: absent, the class does not exist on this firmware. */
static int
check_feature(struct ws_req *w)
{
    const struct sim_profile *p = sim_device_profile(w->dev);
    enum sim_feature f = w->cls->feature;

    if (f == SIM_FEATURE_WSMAN || sim_profile_has(p, f))
        return 0;
    if (w->cls->unsupported_id != NULL)
        WS_EVENT(w, w->cls->unsupported_id, EVLOG_RESULT_FAIL,
                 EVLOG_REASON("unsupported-version"), EVLOG_STR("version", p->text),
                 EVLOG_STR("class", w->cls->name));
    /* reading the wireless service is how a client learns the capability */
    if (w->cls == &ws_wifi_port_configuration_service &&
        ((w->call->kind == WSMAN_GET && !w->is_delete) ||
         w->call->kind == WSMAN_ENUMERATE))
        WS_EVENT(w, "OOB-8.4", EVLOG_RESULT_INFO,
                 EVLOG_STR("what", "wireless-capability"), EVLOG_BOOL("wireless", false));
    w->fault_detail = WSMAN_FAULT_DETAIL_PREFIX "InvalidResourceURI";
    return ws_fault(w, WSMAN_FAULT_DESTINATION_UNREACHABLE, "unsupported-version",
                    "AMT %s has no %s (feature %s)", p->text, w->cls->name,
                    sim_feature_name(f));
}

/* Which action, whether it changes anything, and the checks that follow from it. */
static int
dispatch(struct ws_req *w)
{
    const struct wsman_call *c = w->call;
    const struct ws_method *method = NULL;
    const struct ws_inst *inst = NULL;
    struct ws_inst *insts = NULL;
    bool supported, changes;
    size_t n = 0;
    int r;

    if ((r = check_feature(w)) != 0)
        return r;
    switch (c->kind) {
    case WSMAN_GET:
        supported = w->is_delete ? w->cls->del != NULL : w->cls->gettable;
        changes = w->is_delete;
        break;
    case WSMAN_PUT:
        supported = w->cls->put != NULL;
        changes = true;
        break;
    case WSMAN_ENUMERATE:
    case WSMAN_PULL:
        supported = w->cls->enumerable;
        changes = false;
        break;
    case WSMAN_INVOKE:
        method = method_of(w->cls, c->method);
        supported = method != NULL;
        changes = method != NULL && method->changes;
        break;
    default:
        supported = changes = false;
        break;
    }
    if (!supported)
        return ws_fault(w, WSMAN_FAULT_ACTION_NOT_SUPPORTED, NULL,
                        "%s does not support this action", w->cls->name);
    if (!has_right(w, changes ? w->cls->write_rights : w->cls->read_rights))
        return ws_fault(w, WSMAN_FAULT_ACCESS_DENIED, "missing-right",
                        "user %s lacks the right for %s",
                        w->req->user ? w->req->user : "", w->cls->name);
    if (changes && sim_device_state(w->dev) != SIM_STATE_PROVISIONED &&
        !w->req->provisioning_session)
        return ws_fault(w, WSMAN_FAULT_ACCESS_DENIED, "not-provisioning-session",
                        "before CommitChanges only the provisioning session may change "
                        "settings");
    if ((insts = calloc(WS_INSTANCES_MAX, sizeof(*insts))) == NULL)
        return AMT_ERR_ALLOC;
    if ((r = list_instances(w, insts, &n)) != 0)
        goto out;
    switch (c->kind) {
    case WSMAN_ENUMERATE:
        r = do_enumerate(w, insts, n);
        goto out;
    case WSMAN_PULL:
        r = do_pull(w, insts, n);
        goto out;
    default:
        break;
    }
    if ((r = select_instance(w, insts, n, &inst)) != 0)
        goto out;
    if (c->kind == WSMAN_GET && !w->is_delete)
        r = do_get(w, inst);
    else if (c->kind == WSMAN_GET)
        r = w->cls->del(w, inst);
    else if (c->kind == WSMAN_PUT)
        r = do_put(w, inst);
    else
        r = method->fn(w, inst, c->body);
out:
    free(insts);
    return r;
}

/* Serializes the reply (or the fault) into resp. */
static int
answer(struct ws_req *w, struct sim_response *resp)
{
    struct wsman_msg *fault = NULL;
    char *text = NULL;
    size_t len = 0;
    int r;

    if (w->fault != WSMAN_FAULT_NONE) {
        r = wsman_fault_new(w->call, w->fault,
                            w->fault_reason[0] ? w->fault_reason : NULL, w->fault_detail,
                            &fault);
        /* a reason cut inside a UTF-8 sequence: the standard text then */
        if (r == AMT_ERR_INVALID_ARGUMENT)
            r = wsman_fault_new(w->call, w->fault, NULL, w->fault_detail, &fault);
        if (r == 0)
            r = wsman_msg_text(fault, &text, &len);
        wsman_msg_free(fault);
        resp->status = fault_is_receiver(w->fault) ? 500 : 400;
    } else if (w->is_delete) {
        r = delete_response(w->call, &text, &len);
        resp->status = 200;
    } else {
        r = wsman_msg_text(w->reply, &text, &len);
        resp->status = 200;
    }
    if (r != 0)
        return r;
    resp->body = text;
    resp->body_len = len;
    resp->content_type = WS_CONTENT_TYPE;
    return 0;
}

int
sim_wsman_handle(const struct sim_request *req, struct sim_response *resp)
{
    const struct xmlsafe_limits lim = {SIM_BODY_MAX, WS_MAX_DEPTH};
    struct wsman_call *call = NULL;
    struct ws_req w;
    char detail[XMLSAFE_DETAIL_MAX];
    xmlDocPtr doc = NULL;
    int r = AMT_ERR_INTERNAL;

    if (req == NULL || resp == NULL || req->dev == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(resp, 0, sizeof(*resp));
    memset(&w, 0, sizeof(w));
    w.req = req;
    w.dev = req->dev;
    if (!sim_profile_has(sim_device_profile(w.dev), SIM_FEATURE_WSMAN)) {
        w.why = "no-wsman";
        request_event(&w, 404);
        return answer_plain(resp, 404, "not found\n");
    }
    if (req->method != NULL && strcmp(req->method, "POST") != 0) {
        w.why = "method-not-allowed";
        request_event(&w, 405);
        return answer_plain(resp, 405, "method not allowed\n");
    }
    if ((call = calloc(1, sizeof(*call))) == NULL)
        return AMT_ERR_ALLOC;
    w.call = call;
    if ((r = xmlsafe_parse_detail(req->body, req->body_len, &lim, &doc, detail,
                                  sizeof(detail))) != 0) {
        w.why = r == AMT_ERR_XML_DOCTYPE  ? "doctype"
                : r == AMT_ERR_XML_ENTITY ? "entity"
                                          : "malformed-xml";
        ws_fault(&w, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, w.why, "%s: %s",
                 amt_strerror(r), detail);
        goto reply;
    }
    w.is_delete = rewrite_delete(doc);
    if ((r = wsman_call_parse(doc, call, detail, sizeof(detail))) != 0) {
        ws_fault(&w,
                 call->fault != WSMAN_FAULT_NONE ? call->fault
                                                 : WSMAN_FAULT_SCHEMA_VALIDATION_ERROR,
                 NULL, "%s", detail);
        goto reply;
    }
    if ((w.cls = class_by_uri(call->resource_uri)) == NULL) {
        w.fault_detail = WSMAN_FAULT_DETAIL_PREFIX "InvalidResourceURI";
        ws_fault(&w, WSMAN_FAULT_DESTINATION_UNREACHABLE, "unknown-resource",
                 "no resource of this device has that ResourceURI");
        goto reply;
    }
    r = dispatch(&w);
    if (r != 0 && w.fault == WSMAN_FAULT_NONE)
        ws_fault(&w, WSMAN_FAULT_INTERNAL_ERROR, "internal-error", "%s", amt_strerror(r));
reply:
    r = answer(&w, resp);
    request_event(&w, r == 0 ? resp->status : 500);
    if (r != 0) {
        free(resp->body);
        memset(resp, 0, sizeof(*resp));
    }
    wsman_msg_free(w.reply);
    xmlFreeDoc(doc);
    free(call);
    return r;
}
