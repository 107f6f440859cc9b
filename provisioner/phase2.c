#include "phases.h"

#include "config.h"
#include "err.h"
#include "xmlsafe.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
invoke_new(struct device *d, const char *cls, const char *method, struct wsman_msg **out)
{
    char to[256], uri[256];
    int r;

    if ((r = amt_session_wsman_to(d->session, to, sizeof(to))) != 0 ||
        (r = wsman_class_uri(cls, uri, sizeof(uri))) != 0)
        return r;
    return wsman_request_new(WSMAN_INVOKE, to, uri, method, out);
}

/*
 * OOB-8.1, "removed, then configured": list the entries from the first, remove
 * those listed, and list again until none is left (AMT pages the handles), then
 * add the configured users with the device's realm in their HA1.
 */
int
engine_send_phase2(struct device *d)
{
    const struct prov_config *cfg = d->e->cfg;
    struct wsman_msg *m = NULL;
    char text[64], to[256], uri[256];
    int r;

    switch (d->acl) {
    case ACL_LIST:
        if ((r = invoke_new(d, "AMT_AuthorizationService", "EnumerateUserAclEntries",
                            &m)) == 0)
            r = wsman_msg_add(m, NULL, "StartIndex", "1", NULL);
        break;
    case ACL_REMOVE:
        snprintf(text, sizeof(text), "%u", (unsigned)d->handles[d->i_handle]);
        if ((r = invoke_new(d, "AMT_AuthorizationService", "RemoveUserAclEntry", &m)) ==
            0)
            r = wsman_msg_add(m, NULL, "Handle", text, NULL);
        break;
    case ACL_ADD: {
        const struct prov_acl_entry *a = &cfg->acl[d->i_acl];
        char ha1[32];

        if ((r = engine_ha1_b64(a->user, d->realm, a->password, ha1, sizeof(ha1))) != 0)
            break;
        if ((r = invoke_new(d, "AMT_AuthorizationService", "AddUserAclEntryEx", &m)) ==
                0 &&
            (r = wsman_msg_add(m, NULL, "DigestUsername", a->user, NULL)) == 0)
            r = wsman_msg_add(m, NULL, "DigestPassword", ha1, NULL);
        OPENSSL_cleanse(ha1, sizeof(ha1));
        for (size_t i = 0; r == 0 && i < a->n_realms; i++) {
            snprintf(text, sizeof(text), "%u", (unsigned)a->realms[i]);
            r = wsman_msg_add(m, NULL, "Realms", text, NULL);
        }
        break;
    }
    case FEAT_PING:
        if ((r = amt_session_wsman_to(d->session, to, sizeof(to))) == 0 &&
            (r = wsman_class_uri("AMT_GeneralSettings", uri, sizeof(uri))) == 0 &&
            (r = wsman_request_new(WSMAN_PUT, to, uri, NULL, &m)) == 0)
            r = wsman_msg_add(m, NULL, "PingResponseEnabled",
                              cfg->phase2.ping ? "true" : "false", NULL);
        break;
    case FEAT_WEBUI:
        snprintf(text, sizeof(text), "%u", cfg->phase2.web_ui ? 2u : 3u);
        if ((r = invoke_new(d, "AMT_WebUIService", "RequestStateChange", &m)) == 0)
            r = wsman_msg_add(m, NULL, "RequestedState", text, NULL);
        break;
    case FEAT_REDIR:
        /* 32768 + IDE-R (1) + SOL (2) */
        snprintf(text, sizeof(text), "%u",
                 32768u + (cfg->phase2.ider ? 1u : 0u) + (cfg->phase2.sol ? 2u : 0u));
        if ((r = invoke_new(d, "AMT_RedirectionService", "RequestStateChange", &m)) == 0)
            r = wsman_msg_add(m, NULL, "RequestedState", text, NULL);
        break;
    case SCHEME_ENUM:
    case SCHEME_PULL:
        if ((r = amt_session_wsman_to(d->session, to, sizeof(to))) == 0 &&
            (r = wsman_class_uri("CIM_ElementSettingData", uri, sizeof(uri))) == 0)
            r = wsman_request_new(d->acl == SCHEME_ENUM ? WSMAN_ENUMERATE : WSMAN_PULL,
                                  to, uri, d->acl == SCHEME_ENUM ? NULL : d->context, &m);
        break;
    case AUDIT_ON:
        if ((r = invoke_new(d, "AMT_AuditLog", "RequestStateChange", &m)) == 0)
            r = wsman_msg_add(m, NULL, "RequestedState", "2", NULL);
        break;
    case SCHEME_SET:
        snprintf(text, sizeof(text), "Intel(r) AMT:PowerScheme %u", d->scheme);
        if ((r = invoke_new(d, "AMT_SystemPowerScheme", "SetPowerScheme", &m)) == 0)
            r = wsman_msg_selector(m, "InstanceID", text);
        break;
    default:
        r = AMT_ERR_INTERNAL;
        break;
    }
    if (r == 0 && d->e->o.before_send != NULL)
        d->e->o.before_send(d->e->o.done_arg, d->uuid, engine_step_id(d, STEP_PHASE2),
                            wsman_msg_action(m));
    if (r == 0)
        r = amt_session_wsman(d->session, m, engine_on_reply, d);
    wsman_msg_free(m);
    return r;
}

/* Auditing, then OOB-8.4 (not configured yet: said so, with why), then OOB-9. */
static void
phase2_rest(struct device *d)
{
    const struct prov_config *cfg = d->e->cfg;
    struct prov_version v = {0, 0, 0}, four = {4, 0, 0};
    bool old = prov_config_version_parse(d->version, &v) != 0 ||
               prov_config_version_cmp(&v, &four) < 0;

    if (cfg->phase2.audit && !old && !d->audit_done) {
        int r;

        d->acl = AUDIT_ON;
        if ((r = engine_send_phase2(d)) != 0)
            engine_fail(d, "AMT-AUDIT", "client-error", r);
        return;
    }
    emit(d, engine_id(d, "OOB-8.4", "IB-11.3"), EVLOG_RESULT_SKIP,
         EVLOG_REASON(cfg->sp.mode == PROV_MODE_SP1 ? "sp1-mode"
                      : old                         ? "amt-older-than-4"
                                                    : "not-implemented"));
    if (cfg->phase2.audit && old)
        emit(d, "AMT-AUDIT", EVLOG_RESULT_SKIP, EVLOG_REASON("unsupported-before-4"));
    engine_state(d, SITE_STATE_PROVISIONED, engine_step_id(d, STEP_DONE), NULL);
    emit(d, engine_step_id(d, STEP_DONE), EVLOG_RESULT_OK,
         EVLOG_STR("state", "provisioned"), EVLOG_STR("version", d->version));
    engine_finish(d, 0, engine_step_id(d, STEP_DONE), "");
}

/*
 * The scheme whose CIM_ElementSettingData says IsCurrent = 1, from a Pull's Items:
 *   <CIM_ElementSettingData>...<SettingData>...<Selector Name="InstanceID">
 *     Intel(r) AMT:PowerScheme 5</Selector>...</SettingData><IsCurrent>1</IsCurrent>
 * 0 when none is.
 */
static unsigned
current_scheme(xmlNodePtr items)
{
    static const char tag[] = "PowerScheme ";

    for (xmlNodePtr it = items != NULL ? items->children : NULL; it != NULL;
         it = it->next) {
        bool current = false;
        unsigned number = 0;

        if (it->type != XML_ELEMENT_NODE)
            continue;
        for (xmlNodePtr p = it->children; p != NULL; p = p->next) {
            uint32_t v;
            char *text, *at;

            if (p->type != XML_ELEMENT_NODE)
                continue;
            if (xmlStrcmp(p->name, BAD_CAST "IsCurrent") == 0)
                current = xmlsafe_text_u32(p, &v) == 0 && v == 1;
            if (xmlStrcmp(p->name, BAD_CAST "SettingData") != 0)
                continue;
            text = (char *)xmlNodeGetContent(p);
            if (text != NULL && (at = strstr(text, tag)) != NULL)
                number = (unsigned)strtoul(at + sizeof(tag) - 1, NULL, 10);
            xmlFree(text);
        }
        if (current && number != 0)
            return number;
    }
    return 0;
}

void
engine_phase2_reply(struct device *d, struct amt_result *res)
{
    const struct prov_config *cfg = d->e->cfg;
    const char *sid = engine_step_id(d, STEP_PHASE2);
    char reason[SITE_REASON_MAX + 1];
    int r;

    if (!d->p2_seen) {
        d->p2_seen = true;
        emit(d, engine_id(d, "OOB-8", "IB-11"), EVLOG_RESULT_OK, EVLOG_STR("trust", "ca"),
             EVLOG_STR("user", d->admin_user));
    }
    if (res->wsman.return_value != 0) {
        snprintf(reason, sizeof(reason), "amt-return-%u",
                 (unsigned)res->wsman.return_value);
        engine_fail(d, sid, reason, AMT_ERR_ENGINE_STEP);
        return;
    }
    switch (d->acl) {
    case ACL_LIST:
        d->n_handles = d->i_handle = 0;
        for (xmlNodePtr n = res->wsman.instance != NULL ? res->wsman.instance->children
                                                        : NULL;
             n != NULL; n = n->next) {
            uint32_t h;

            if (n->type == XML_ELEMENT_NODE &&
                xmlStrcmp(n->name, BAD_CAST "Handles") == 0 &&
                xmlsafe_text_u32(n, &h) == 0 && d->n_handles < 64)
                d->handles[d->n_handles++] = h;
        }
        d->acl = d->n_handles > 0 ? ACL_REMOVE : ACL_ADD;
        if (d->acl == ACL_ADD)
            emit(d, sid, EVLOG_RESULT_INFO, EVLOG_STR("acl", "empty"));
        break;
    case ACL_REMOVE:
        if (++d->i_handle == d->n_handles)
            d->acl = ACL_LIST;
        break;
    case ACL_ADD:
        emit(d, sid, EVLOG_RESULT_OK, EVLOG_STR("user", cfg->acl[d->i_acl].user),
             EVLOG_INT("realms", (int64_t)cfg->acl[d->i_acl].n_realms));
        d->i_acl++;
        break;
    case FEAT_PING:
    case FEAT_WEBUI:
        d->acl++;
        break;
    case FEAT_REDIR:
        emit(d, "OOB-8.2", EVLOG_RESULT_OK, EVLOG_BOOL("ping", cfg->phase2.ping),
             EVLOG_BOOL("web-ui", cfg->phase2.web_ui), EVLOG_BOOL("sol", cfg->phase2.sol),
             EVLOG_BOOL("ider", cfg->phase2.ider));
        d->acl = SCHEME_ENUM;
        break;
    case SCHEME_ENUM:
        snprintf(d->context, sizeof(d->context), "%s", res->wsman.context);
        d->acl = SCHEME_PULL;
        break;
    case SCHEME_PULL: {
        unsigned current;

        snprintf(d->context, sizeof(d->context), "%s", res->wsman.context);
        current = current_scheme(res->wsman.items);
        if (current == d->scheme) {
            emit(d, engine_id(d, "OOB-8.3", "IB-11.2"), EVLOG_RESULT_SKIP,
                 EVLOG_REASON("power-scheme-already-set"),
                 EVLOG_INT("scheme", d->scheme));
            d->acl = P2_END;
        } else if (current == 0 && !res->wsman.end_of_sequence) {
            d->acl = SCHEME_PULL;
        } else {
            d->acl = SCHEME_SET;
        }
        break;
    }
    case SCHEME_SET:
        emit(d, engine_id(d, "OOB-8.3", "IB-11.2"), EVLOG_RESULT_OK,
             EVLOG_INT("scheme", d->scheme));
        d->acl = P2_END;
        break;
    case AUDIT_ON:
        emit(d, "AMT-AUDIT", EVLOG_RESULT_OK, EVLOG_BOOL("enabled", true));
        d->audit_done = true;
        d->acl = P2_END;
        break;
    default:
        break;
    }
    if (d->acl == ACL_ADD && d->i_acl >= cfg->n_acl)
        d->acl = FEAT_PING;
    if (d->acl == FEAT_PING && d->in_band) {
        /* IB-11: an in-band device's features are its owner's business */
        emit(d, "IB-11", EVLOG_RESULT_SKIP, EVLOG_REASON("in-band-no-feature-step"));
        d->acl = SCHEME_ENUM;
    }
    if (d->acl == SCHEME_ENUM && d->scheme == 0) {
        if (cfg->phase2.kerberos)
            emit(d, engine_id(d, "OOB-8.3", "IB-11.2"), EVLOG_RESULT_SKIP,
                 EVLOG_REASON("kerberos-not-implemented"));
        d->scheme = prov_config_power_scheme(cfg);
        if (d->scheme == 0) {
            emit(d, engine_id(d, "OOB-8.3", "IB-11.2"), EVLOG_RESULT_SKIP,
                 EVLOG_REASON("power-scheme-not-configured"));
            d->acl = P2_END;
        }
    }
    if (d->acl == P2_END) {
        phase2_rest(d);
        return;
    }
    if ((r = engine_send_phase2(d)) != 0)
        engine_fail(d, sid, "client-error", r);
}
