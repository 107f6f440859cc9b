/*
 * The WS-Management classes over the device's own settings: general settings,
 * redirection and web UI switches (OOB-8.2), Kerberos and the power scheme
 * (OOB-8.3), TLS, time, setup and configuration (OOB-7.6), power control and
 * the audit log (AMT-AUDIT). Each change goes through a device setter, which
 * commits and logs its catalogue step; what no setter covers lives under p2.
 *
 * A Put changes what differs from the instance as it is, so that the usual
 * Get, change one property, Put does not log steps nobody asked for; a method
 * (RequestStateChange, SetPowerScheme) always acts, as it was asked to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "wsman_classes.h"
#include "xmlsafe.h"

#define NAME_MAX_LEN SIM_NAME_MAX

/* The managed computer as AMT names it in references. */
static const struct ws_key managed_system[] = {
    {"CreationClassName", WS_SYSTEM_CLASS},
    {"Name", "ManagedSystem"},
};

static int
one_instance(struct ws_inst *out, size_t *n, const char *key, const char *value)
{
    memset(&out[0], 0, sizeof(out[0]));
    snprintf(out[0].id, sizeof(out[0].id), "%s", value);
    ws_inst_key(&out[0], key, "%s", value);
    *n = 1;
    return 0;
}

static int
set_switch_if(struct ws_req *w, enum sim_feature_switch sw, bool on)
{
    if (sim_device_switch(w->dev, sw) == on)
        return 0;
    return sim_device_set_switch(w->dev, sw, on);
}

/* A host label (single) or a domain: labels of 1-63 letters, digits and inner '-'. */
static bool
dns_name_ok(const char *name, bool single)
{
    size_t len = strlen(name), label = 0;

    if (len == 0 || len > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char c = name[i];

        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || name[i - 1] == '-' || (c == '.' && single))
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || (c == '-' && label > 0)))
            return false;
        label++;
    }
    return true;
}

static bool
printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* --- AMT_GeneralSettings --- */

#define GS_ID "Intel(r) AMT: General Settings"

static int
gs_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    return one_instance(out, n, "InstanceID", GS_ID);
}

static int
gs_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    const char *host = sim_device_host_name(w->dev),
               *domain = sim_device_domain_name(w->dev);

    ws_prop(o, "ElementName", GS_ID);
    ws_prop_keys(o, inst);
    ws_prop_bool(o, "NetworkInterfaceEnabled", true);
    ws_prop(o, "DigestRealm", sim_device_realm(w->dev));
    ws_prop_u32(o, "IdleWakeTimeout", (uint32_t)ws_p2_u(w, "gs.idle-wake-timeout", 1));
    ws_prop(o, "HostName", host != NULL ? host : "");
    ws_prop(o, "DomainName", domain != NULL ? domain : "");
    ws_prop_bool(o, "PingResponseEnabled", sim_device_switch(w->dev, SIM_SWITCH_PING));
    ws_prop_bool(o, "WsmanOnlyMode", false);
    ws_prop_u32(o, "PreferredAddressFamily", 0);
    ws_prop_bool(o, "DDNSUpdateEnabled", ws_p2_u(w, "gs.ddns-update", 0) == 1);
    ws_prop_bool(o, "DDNSUpdateByDHCPServerEnabled", true);
    ws_prop_bool(o, "SharedFQDN", ws_p2_u(w, "gs.shared-fqdn", 1) == 1);
    ws_prop_u32(o, "AMTNetworkEnabled", (uint32_t)ws_p2_u(w, "gs.amt-network", 1));
    ws_prop_bool(o, "RmcpPingResponseEnabled", ws_p2_u(w, "gs.rmcp-ping", 1) == 1);
    return o->err;
}

/*
 * <p:AMT_GeneralSettings><p:HostName>pc1</p:HostName>
 *   <p:PingResponseEnabled>true</p:PingResponseEnabled>...
 * Everything is checked before anything changes.
 */
static int
gs_put(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    const char *cur_host = sim_device_host_name(w->dev);
    const char *cur_domain = sim_device_domain_name(w->dev);
    char host[NAME_MAX_LEN + 1], domain[NAME_MAX_LEN + 1];
    bool has_host, has_domain, ping, has_ping, rmcp, has_rmcp, ddns, has_ddns, shared,
        has_shared;
    uint32_t idle, net;
    bool has_idle, has_net;
    int r;

    if ((r = ws_in_text(w, in, "HostName", host, sizeof(host), &has_host)) != 0 ||
        (r = ws_in_text(w, in, "DomainName", domain, sizeof(domain), &has_domain)) != 0 ||
        (r = ws_in_bool(w, in, "PingResponseEnabled", &ping, &has_ping)) != 0 ||
        (r = ws_in_bool(w, in, "RmcpPingResponseEnabled", &rmcp, &has_rmcp)) != 0 ||
        (r = ws_in_bool(w, in, "DDNSUpdateEnabled", &ddns, &has_ddns)) != 0 ||
        (r = ws_in_bool(w, in, "SharedFQDN", &shared, &has_shared)) != 0 ||
        (r = ws_in_u32(w, in, "IdleWakeTimeout", &idle, &has_idle)) != 0 ||
        (r = ws_in_u32(w, in, "AMTNetworkEnabled", &net, &has_net)) != 0)
        return r;
    has_host = has_host && strcmp(host, cur_host != NULL ? cur_host : "") != 0;
    has_domain = has_domain && strcmp(domain, cur_domain != NULL ? cur_domain : "") != 0;
    if (has_host && !dns_name_ok(host, true))
        return ws_schema(w, "HostName is not a host name");
    if (has_domain && !dns_name_ok(domain, false))
        return ws_schema(w, "DomainName is not a domain name");
    if (has_idle && (idle == 0 || idle > 65535))
        return ws_schema(w, "IdleWakeTimeout must be 1 to 65535 minutes");
    if (has_net && net > 1)
        return ws_schema(w, "AMTNetworkEnabled must be 0 or 1");
    if ((has_host && (r = sim_device_set_host_name(w->dev, host)) != 0) ||
        (has_domain && (r = sim_device_set_domain_name(w->dev, domain)) != 0) ||
        (has_ping && (r = set_switch_if(w, SIM_SWITCH_PING, ping)) != 0))
        return r;
    if ((has_rmcp && (r = ws_p2_set_u(w, "gs.rmcp-ping", rmcp)) != 0) ||
        (has_ddns && (r = ws_p2_set_u(w, "gs.ddns-update", ddns)) != 0) ||
        (has_shared && (r = ws_p2_set_u(w, "gs.shared-fqdn", shared)) != 0) ||
        (has_idle && (r = ws_p2_set_u(w, "gs.idle-wake-timeout", idle)) != 0) ||
        (has_net && (r = ws_p2_set_u(w, "gs.amt-network", net)) != 0))
        return r;
    return ws_p2_commit(w);
}

const struct ws_class ws_general_settings = {
    .name = "AMT_GeneralSettings",
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = SIM_RIGHT_GENERAL_INFO,
    .write_rights = 0,
    .list = gs_list,
    .render = gs_render,
    .gettable = true,
    .enumerable = true,
    .put = gs_put,
};

/* --- RequestStateChange, as the services below take it --- */

/* <h:RequestStateChange_INPUT><h:RequestedState>32771</h:RequestedState> */
static int
read_requested_state(struct ws_req *w, xmlNodePtr in, uint32_t *state)
{
    static const struct ws_param params[] = {{"RequestedState", false},
                                             {"TimeoutPeriod", false}};
    bool present;
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, params, N_ELEMS(params))) !=
            0 ||
        (r = ws_in_u32(w, in, "RequestedState", state, &present)) != 0)
        return r;
    return present ? 0 : ws_missing(w, "RequestedState");
}

/* --- AMT_RedirectionService --- */

#define REDIR_CLASS "AMT_RedirectionService"
#define REDIR_NAME "Intel(r) AMT Redirection Service"
/* EnabledState and RequestedState: 32768 + IDE-R bit (1) + SOL bit (2) */
#define REDIR_BASE 32768u

static int
redir_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    ws_service_inst(&out[0], REDIR_CLASS, REDIR_NAME);
    *n = 1;
    return 0;
}

static int
redir_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    bool ider = sim_device_switch(w->dev, SIM_SWITCH_IDER);
    bool sol = sim_device_switch(w->dev, SIM_SWITCH_SOL);

    ws_prop_keys(o, inst);
    ws_prop(o, "ElementName", REDIR_NAME);
    ws_prop_u32(o, "EnabledState", REDIR_BASE + (ider ? 1u : 0u) + (sol ? 2u : 0u));
    ws_prop_bool(o, "ListenerEnabled",
                 sim_device_switch(w->dev, SIM_SWITCH_REDIRECTION_LISTENER));
    return o->err;
}

static int
redir_put(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    bool on, present;
    int r;

    if ((r = ws_in_bool(w, in, "ListenerEnabled", &on, &present)) != 0)
        return r;
    return present ? set_switch_if(w, SIM_SWITCH_REDIRECTION_LISTENER, on) : 0;
}

static int
redir_state(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    uint32_t state;
    int r;

    if ((r = read_requested_state(w, in, &state)) != 0)
        return r;
    if (state < REDIR_BASE || state > REDIR_BASE + 3)
        return ws_return(w, CIM_RV_INVALID_PARAMETER, "invalid-state");
    if ((r = sim_device_set_switch(w->dev, SIM_SWITCH_SOL, (state & 2) != 0)) != 0 ||
        (r = sim_device_set_switch(w->dev, SIM_SWITCH_IDER, (state & 1) != 0)) != 0)
        return r;
    return ws_return(w, CIM_RV_OK, NULL);
}

static const struct ws_method redir_methods[] = {
    {"RequestStateChange", true, redir_state},
};

const struct ws_class ws_redirection_service = {
    .name = REDIR_CLASS,
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = SIM_RIGHT_REDIRECTION,
    .write_rights = 0,
    .list = redir_list,
    .render = redir_render,
    .gettable = true,
    .enumerable = true,
    .put = redir_put,
    .methods = redir_methods,
    .n_methods = N_ELEMS(redir_methods),
};

/* --- AMT_WebUIService: the web console (OOB-8.2), 2 enabled, 3 disabled --- */

#define WEBUI_CLASS "AMT_WebUIService"
#define WEBUI_NAME "Intel(r) AMT Web Browser UI Service"

static int
webui_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    ws_service_inst(&out[0], WEBUI_CLASS, WEBUI_NAME);
    *n = 1;
    return 0;
}

static int
webui_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    bool on = sim_device_switch(w->dev, SIM_SWITCH_WEB_UI);

    ws_prop_keys(o, inst);
    ws_prop(o, "ElementName", WEBUI_NAME);
    ws_prop_u32(o, "EnabledState", on ? 2 : 3);
    ws_prop_u32(o, "RequestedState", on ? 2 : 3);
    return o->err;
}

/* RequestStateChange of a service that is a plain switch: 2 enabled, 3 disabled. */
static int
switch_state_change(struct ws_req *w, xmlNodePtr in, enum sim_feature_switch sw)
{
    uint32_t state;
    int r;

    if ((r = read_requested_state(w, in, &state)) != 0)
        return r;
    if (state != 2 && state != 3)
        return ws_return(w, CIM_RV_INVALID_PARAMETER, "invalid-state");
    if ((r = sim_device_set_switch(w->dev, sw, state == 2)) != 0)
        return r;
    return ws_return(w, CIM_RV_OK, NULL);
}

static int
webui_state(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    return switch_state_change(w, in, SIM_SWITCH_WEB_UI);
}

static const struct ws_method webui_methods[] = {
    {"RequestStateChange", true, webui_state},
};

const struct ws_class ws_web_ui_service = {
    .name = WEBUI_CLASS,
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = SIM_RIGHT_GENERAL_INFO,
    .write_rights = 0,
    .list = webui_list,
    .render = webui_render,
    .gettable = true,
    .enumerable = true,
    .methods = webui_methods,
    .n_methods = N_ELEMS(webui_methods),
};

/* --- AMT_KerberosSettingData (OOB-8.3) --- */

#define KRB_ID "Intel (r) AMT: Kerberos Settings"
#define KRB_SPN_MAX 4
#define KRB_TEXT_MAX 255

static int
krb_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    return one_instance(out, n, "InstanceID", KRB_ID);
}

static int
krb_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    const char *realm = ws_p2_get(w, "krb.realm");
    char key[32];

    ws_prop(o, "ElementName", KRB_ID);
    ws_prop_keys(o, inst);
    ws_prop(o, "RealmName", realm != NULL ? realm : "");
    for (unsigned i = 0; i < KRB_SPN_MAX; i++) {
        const char *spn;

        snprintf(key, sizeof(key), "krb.spn.%u", i);
        if ((spn = ws_p2_get(w, key)) != NULL)
            ws_prop(o, "ServicePrincipalName", spn);
    }
    ws_prop_u32(o, "KeyVersion", (uint32_t)ws_p2_u(w, "krb.key-version", 1));
    ws_prop_u32(o, "EncryptionAlgorithm", (uint32_t)ws_p2_u(w, "krb.encryption", 0));
    ws_prop_u32(o, "MaximumClockTolerance",
                (uint32_t)ws_p2_u(w, "krb.clock-tolerance", 5));
    ws_prop_bool(o, "KrbEnabled", sim_device_switch(w->dev, SIM_SWITCH_KERBEROS));
    /* RC4-HMAC, AES128, AES256: AMT's three */
    ws_prop_u32(o, "SupportedEncryptionAlgorithms", 0);
    ws_prop_u32(o, "SupportedEncryptionAlgorithms", 1);
    ws_prop_u32(o, "SupportedEncryptionAlgorithms", 2);
    return o->err;
}

static int
krb_put(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    char realm[KRB_TEXT_MAX + 1], spn[KRB_SPN_MAX][KRB_TEXT_MAX + 1], b64[64], key[32];
    unsigned char *master = NULL;
    size_t n_spn = 0, master_len = 0;
    uint32_t version, alg, tolerance;
    bool has_realm, has_version, has_alg, has_tol, on, has_on, has_master;
    int r;

    if ((r = ws_in_text(w, in, "RealmName", realm, sizeof(realm), &has_realm)) != 0 ||
        (r = ws_in_u32(w, in, "KeyVersion", &version, &has_version)) != 0 ||
        (r = ws_in_u32(w, in, "EncryptionAlgorithm", &alg, &has_alg)) != 0 ||
        (r = ws_in_u32(w, in, "MaximumClockTolerance", &tolerance, &has_tol)) != 0 ||
        (r = ws_in_bool(w, in, "KrbEnabled", &on, &has_on)) != 0 ||
        (r = ws_in_text(w, in, "MasterKey", b64, sizeof(b64), &has_master)) != 0)
        goto out;
    for (xmlNodePtr c = ws_child(in, "ServicePrincipalName"); c != NULL;
         c = xmlsafe_next(c, NULL, "ServicePrincipalName")) {
        if (n_spn == KRB_SPN_MAX || xmlsafe_text(c, spn[n_spn], sizeof(spn[0])) != 0 ||
            !printable(spn[n_spn]) || spn[n_spn][0] == '\0') {
            r = ws_schema(w, "at most %d ServicePrincipalName of 1 to %d printable bytes",
                          KRB_SPN_MAX, KRB_TEXT_MAX);
            goto out;
        }
        n_spn++;
    }
    if (has_realm && !printable(realm)) {
        r = ws_schema(w, "RealmName must be printable ASCII");
        goto out;
    }
    if ((has_alg && alg > 2) || (has_tol && (tolerance == 0 || tolerance > 3600))) {
        r = ws_schema(w,
                      "EncryptionAlgorithm is 0 to 2, MaximumClockTolerance 1 to 3600");
        goto out;
    }
    /* the key itself is a secret: it is checked, then only its presence is kept */
    if (has_master && (ws_base64_decode(b64, &master, &master_len, 32) != 0 ||
                       (master_len != 16 && master_len != 32))) {
        r = ws_schema(w, "MasterKey must be 16 or 32 bytes in base64");
        goto out;
    }
    if ((has_realm && (r = ws_p2_set(w, "krb.realm", realm)) != 0) ||
        (has_version && (r = ws_p2_set_u(w, "krb.key-version", version)) != 0) ||
        (has_alg && (r = ws_p2_set_u(w, "krb.encryption", alg)) != 0) ||
        (has_tol && (r = ws_p2_set_u(w, "krb.clock-tolerance", tolerance)) != 0) ||
        (has_master && (r = ws_p2_set(w, "krb.master-key-set", "1")) != 0))
        goto out;
    for (unsigned i = 0; ws_child(in, "ServicePrincipalName") != NULL && i < KRB_SPN_MAX;
         i++) {
        snprintf(key, sizeof(key), "krb.spn.%u", i);
        if ((r = ws_p2_set(w, key, i < n_spn ? spn[i] : NULL)) != 0)
            goto out;
    }
    if ((r = ws_p2_commit(w)) != 0)
        goto out;
    if (has_on)
        r = set_switch_if(w, SIM_SWITCH_KERBEROS, on);
out:
    OPENSSL_cleanse(b64, sizeof(b64));
    if (master != NULL)
        OPENSSL_cleanse(master, master_len);
    free(master);
    ws_wipe_text(ws_child(in, "MasterKey"));
    return r;
}

static const char *const krb_write_only[] = {"MasterKey", NULL};
static const char *const krb_multi[] = {"ServicePrincipalName",
                                        "SupportedEncryptionAlgorithms", NULL};

const struct ws_class ws_kerberos_setting_data = {
    .name = "AMT_KerberosSettingData",
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = 0,
    .write_rights = 0,
    .list = krb_list,
    .render = krb_render,
    .gettable = true,
    .enumerable = true,
    .put = krb_put,
    .write_only = krb_write_only,
    .multi = krb_multi,
};

/* --- AMT_SystemPowerScheme (OOB-8.3) and the CIM_ElementSettingData that says
 * which one is current --- */

/*
 * [assumption] The firmware's own table is per platform and not public: these five
 * desktop schemes follow the catalogue's numbering ("scheme 5 = always on except on
 * power loss"); the GUIDs are this simulator's.
 */
static const struct {
    unsigned number;
    const char *description;
} schemes[] = {
    {1, "Desktop: ON in S0"},
    {2, "Desktop: ON in S0, ME Wake in S3, S4-5"},
    {3, "Desktop: ON in S0, S3"},
    {4, "Desktop: ON in S0, S3, ME Wake in S4-5"},
    {5, "Desktop: ON in S0, S3, S4-5; off only after power loss"},
};

#define SCHEME_ID_FMT "Intel(r) AMT:PowerScheme %u"

static int
scheme_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < N_ELEMS(schemes) && *n < max; i++) {
        struct ws_inst *inst = &out[(*n)++];

        memset(inst, 0, sizeof(*inst));
        snprintf(inst->id, sizeof(inst->id), "%u", schemes[i].number);
        ws_inst_key(inst, "InstanceID", SCHEME_ID_FMT, schemes[i].number);
    }
    return 0;
}

static unsigned
scheme_number(const struct ws_inst *inst)
{
    return (unsigned)strtoul(inst->id, NULL, 10);
}

static int
scheme_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    unsigned number = scheme_number(inst);
    const char *description = "";

    for (size_t i = 0; i < N_ELEMS(schemes); i++)
        if (schemes[i].number == number)
            description = schemes[i].description;
    ws_prop(o, "ElementName", description);
    ws_prop_keys(o, inst);
    ws_propf(o, "SchemeGUID", "7c1d5a3e-6a4f-4b8e-9d2a-%012u", number);
    ws_prop(o, "Description", description);
    return o->err;
}

/* <h:SetPowerScheme_INPUT/> on the scheme the InstanceID selector names. */
static int
scheme_set(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, NULL, 0)) != 0)
        return r;
    if ((r = sim_device_set_power_scheme(w->dev, scheme_number(inst))) != 0)
        return r;
    return ws_return(w, PT_SUCCESS, NULL);
}

static const struct ws_method scheme_methods[] = {
    {"SetPowerScheme", true, scheme_set},
};

const struct ws_class ws_system_power_scheme = {
    .name = "AMT_SystemPowerScheme",
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = SIM_RIGHT_GENERAL_INFO,
    .write_rights = 0,
    .list = scheme_list,
    .render = scheme_render,
    .gettable = true,
    .enumerable = true,
    .methods = scheme_methods,
    .n_methods = N_ELEMS(scheme_methods),
};

/* Only the power schemes' rows: enough to say which scheme is current. */
static int
esd_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    unsigned number = scheme_number(inst);
    struct ws_key scheme = {"InstanceID", ""};

    snprintf(scheme.value, sizeof(scheme.value), SCHEME_ID_FMT, number);
    ws_prop_epr(o, "ManagedElement", WS_SYSTEM_CLASS, managed_system,
                N_ELEMS(managed_system));
    ws_prop_epr(o, "SettingData", "AMT_SystemPowerScheme", &scheme, 1);
    /* CIM: 1 is current / default, 2 is not */
    ws_prop_u32(o, "IsCurrent", sim_device_power_scheme(w->dev) == number ? 1 : 2);
    ws_prop_u32(o, "IsDefault", number == 1 ? 1 : 2);
    return o->err;
}

static int
esd_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    int r = scheme_list(w, out, max, n);

    /* references are the keys of an association: nothing a string selector matches */
    for (size_t i = 0; i < *n; i++)
        out[i].n_keys = 0;
    return r;
}

const struct ws_class ws_element_setting_data = {
    .name = "CIM_ElementSettingData",
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = SIM_RIGHT_GENERAL_INFO,
    .list = esd_list,
    .render = esd_render,
    .enumerable = true,
};

/* --- AMT_TLSSettingData --- */

#define TLS_ID_NET "Intel(r) AMT 802.3 TLS Settings"
#define TLS_ID_LMS "Intel(r) AMT LMS TLS Settings"
#define TLS_CN_MAX 4

static int
tls_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    memset(out, 0, 2 * sizeof(*out));
    snprintf(out[0].id, sizeof(out[0].id), "net");
    ws_inst_key(&out[0], "InstanceID", "%s", TLS_ID_NET);
    snprintf(out[1].id, sizeof(out[1].id), "lms");
    ws_inst_key(&out[1], "InstanceID", "%s", TLS_ID_LMS);
    *n = 2;
    return 0;
}

static bool
tls_enabled(struct ws_req *w, const char *id)
{
    if (strcmp(id, "net") == 0)
        return sim_device_tls_enabled(w->dev);
    return ws_p2_u(w, "tls.lms.enabled", 0) == 1;
}

static int
tls_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    char key[WS_ID_MAX + 32];

    ws_prop(o, "ElementName", inst->keys[0].value);
    ws_prop_keys(o, inst);
    snprintf(key, sizeof(key), "tls.%s.mutual", inst->id);
    ws_prop_bool(o, "MutualAuthentication", ws_p2_u(w, key, 0) == 1);
    ws_prop_bool(o, "Enabled", tls_enabled(w, inst->id));
    for (unsigned i = 0; i < TLS_CN_MAX; i++) {
        const char *cn;

        snprintf(key, sizeof(key), "tls.%s.trusted-cn.%u", inst->id, i);
        if ((cn = ws_p2_get(w, key)) != NULL)
            ws_prop(o, "TrustedCN", cn);
    }
    snprintf(key, sizeof(key), "tls.%s.accept-non-secure", inst->id);
    ws_prop_bool(o, "AcceptNonSecureConnections", ws_p2_u(w, key, 0) == 1);
    return o->err;
}

static int
tls_put(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    char cn[TLS_CN_MAX][NAME_MAX_LEN + 1], key[WS_ID_MAX + 32];
    bool on, has_on, mutual, has_mutual, accept, has_accept;
    size_t n_cn = 0;
    int r;

    if ((r = ws_in_bool(w, in, "Enabled", &on, &has_on)) != 0 ||
        (r = ws_in_bool(w, in, "MutualAuthentication", &mutual, &has_mutual)) != 0 ||
        (r = ws_in_bool(w, in, "AcceptNonSecureConnections", &accept, &has_accept)) != 0)
        return r;
    for (xmlNodePtr c = ws_child(in, "TrustedCN"); c != NULL;
         c = xmlsafe_next(c, NULL, "TrustedCN")) {
        if (n_cn == TLS_CN_MAX || xmlsafe_text(c, cn[n_cn], sizeof(cn[0])) != 0 ||
            !dns_name_ok(cn[n_cn], false))
            return ws_schema(w, "at most %d TrustedCN, each a DNS name", TLS_CN_MAX);
        n_cn++;
    }
    snprintf(key, sizeof(key), "tls.%s.mutual", inst->id);
    if (has_mutual && (r = ws_p2_set_u(w, key, mutual)) != 0)
        return r;
    snprintf(key, sizeof(key), "tls.%s.accept-non-secure", inst->id);
    if (has_accept && (r = ws_p2_set_u(w, key, accept)) != 0)
        return r;
    for (unsigned i = 0; ws_child(in, "TrustedCN") != NULL && i < TLS_CN_MAX; i++) {
        snprintf(key, sizeof(key), "tls.%s.trusted-cn.%u", inst->id, i);
        if ((r = ws_p2_set(w, key, i < n_cn ? cn[i] : NULL)) != 0)
            return r;
    }
    if (has_on && strcmp(inst->id, "lms") == 0 &&
        (r = ws_p2_set_u(w, "tls.lms.enabled", on)) != 0)
        return r;
    if ((r = ws_p2_commit(w)) != 0)
        return r;
    if (has_on && strcmp(inst->id, "net") == 0 && on != sim_device_tls_enabled(w->dev))
        return sim_device_set_tls_enabled(w->dev, on);
    return 0;
}

static const char *const tls_multi[] = {"TrustedCN", NULL};

const struct ws_class ws_tls_setting_data = {
    .name = "AMT_TLSSettingData",
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = 0,
    .write_rights = 0,
    .list = tls_list,
    .render = tls_render,
    .gettable = true,
    .enumerable = true,
    .put = tls_put,
    .multi = tls_multi,
};

/* --- AMT_TimeSynchronizationService (OOB-7.1) --- */

#define TIME_CLASS "AMT_TimeSynchronizationService"
#define TIME_NAME "Intel(r) AMT Time Synchronization Service"

static int
time_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    ws_service_inst(&out[0], TIME_CLASS, TIME_NAME);
    *n = 1;
    return 0;
}

static int
time_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    ws_prop_keys(o, inst);
    ws_prop(o, "ElementName", TIME_NAME);
    ws_prop_u32(o, "EnabledState", 5);
    return o->err;
}

static int
time_get_low(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    int64_t now = sim_device_time(w->dev);
    struct ws_out o;
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, NULL, 0)) != 0 ||
        (r = ws_return(w, PT_SUCCESS, NULL)) != 0)
        return r;
    ws_out_reply(w, &o);
    ws_prop_u32(&o, "Ta0", now > 0 && now <= UINT32_MAX ? (uint32_t)now : 0);
    return o.err;
}

/*
 * Ta0 is AMT's time from GetLowAccuracyTimeSynch, Tm1 the console's when it got
 * it, Tm2 the console's when it sends this. The console's clock is taken as the
 * truth: AMT's time becomes Tm2.
 */
static int
time_set_high(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    static const struct ws_param params[] = {
        {"Ta0", false}, {"Tm1", false}, {"Tm2", false}};
    uint32_t ta0, tm1, tm2;
    bool p0, p1, p2;
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, params, N_ELEMS(params))) !=
            0 ||
        (r = ws_in_u32(w, in, "Ta0", &ta0, &p0)) != 0 ||
        (r = ws_in_u32(w, in, "Tm1", &tm1, &p1)) != 0 ||
        (r = ws_in_u32(w, in, "Tm2", &tm2, &p2)) != 0)
        return r;
    if (!p0 || !p1 || !p2)
        return ws_missing(w, !p0 ? "Ta0" : !p1 ? "Tm1" : "Tm2");
    if (ta0 == 0 || tm1 == 0 || tm1 > tm2 || (int64_t)ta0 > sim_device_time(w->dev))
        return ws_return(w, PT_INVALID_PARAMETER, "invalid-time");
    if ((r = sim_device_set_time(w->dev, (int64_t)tm2)) != 0)
        return r;
    return ws_return(w, PT_SUCCESS, NULL);
}

static const struct ws_method time_methods[] = {
    {"GetLowAccuracyTimeSynch", false, time_get_low},
    {"SetHighAccuracyTimeSynch", true, time_set_high},
};

const struct ws_class ws_time_synchronization_service = {
    .name = TIME_CLASS,
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = SIM_RIGHT_NETWORK | SIM_RIGHT_GENERAL_INFO,
    .write_rights = SIM_RIGHT_NETWORK,
    .list = time_list,
    .render = time_render,
    .gettable = true,
    .enumerable = true,
    .methods = time_methods,
    .n_methods = N_ELEMS(time_methods),
};

/* --- AMT_SetupAndConfigurationService (OOB-7.6, unprovisioning) --- */

#define SETUP_CLASS "AMT_SetupAndConfigurationService"
#define SETUP_NAME "Intel(r) AMT Setup and Configuration Service"
#define MEBX_PASSWORD_MAX 64

static int
setup_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    ws_service_inst(&out[0], SETUP_CLASS, SETUP_NAME);
    *n = 1;
    return 0;
}

static int
setup_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    const struct sim_device_config *cfg = sim_device_config(w->dev);
    enum sim_state state = sim_device_state(w->dev);

    ws_prop_keys(o, inst);
    ws_prop(o, "ElementName", SETUP_NAME);
    ws_prop_u32(o, "EnabledState", 5);
    ws_prop_u32(o, "ProvisioningMode", 1); /* enterprise: PKI, the seed's mode */
    /* 0 pre-provisioning, 1 in provisioning, 2 post provisioning */
    ws_prop_u32(o, "ProvisioningState",
                state == SIM_STATE_SETUP             ? 0
                : state == SIM_STATE_IN_PROVISIONING ? 1
                                                     : 2);
    ws_prop_bool(o, "ZeroTouchConfigurationEnabled", true);
    ws_prop_u32(o, "PasswordModel", 1);
    ws_prop(o, "DhcpDNSSuffix", cfg->dhcp_domain != NULL ? cfg->dhcp_domain : "");
    ws_prop(o, "TrustedDNSSuffix", sim_device_pki_suffix(w->dev));
    return o->err;
}

/* MeshCommander and the AMT SDK send a dummy parameter where a method has none. */
static const struct ws_param no_params[] = {{"_method_dummy", false}};

static int
setup_commit(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, no_params, 1)) != 0)
        return r;
    /* every setter has committed already: after provisioning nothing is pending */
    if (sim_device_state(w->dev) == SIM_STATE_PROVISIONED)
        return ws_return(w, PT_SUCCESS, NULL);
    r = sim_device_commit(w->dev);
    if (r == AMT_ERR_INVALID_ARGUMENT)
        return ws_return(w, PT_DATA_MISSING, "admin-password-not-set");
    if (r != 0)
        return r;
    return ws_return(w, PT_SUCCESS, NULL);
}

static int
unprovision(struct ws_req *w, bool partial)
{
    int r;

    if ((r = sim_device_unprovision(w->dev, partial)) != 0)
        return r;
    sim_wsman_forget_device(w->dev);
    return ws_return(w, PT_SUCCESS, NULL);
}

/* <h:Unprovision_INPUT><h:ProvisioningMode>1</h:ProvisioningMode> */
static int
setup_unprovision(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    static const struct ws_param params[] = {{"ProvisioningMode", false}};
    uint32_t mode = 1;
    bool present;
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, params, 1)) != 0 ||
        (r = ws_in_u32(w, in, "ProvisioningMode", &mode, &present)) != 0)
        return r;
    if (mode != 1)
        return ws_return(w, PT_INVALID_PARAMETER, "invalid-provisioning-mode");
    return unprovision(w, false);
}

static int
setup_partial_unprovision(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, no_params, 1)) != 0)
        return r;
    return unprovision(w, true);
}

static int
setup_mebx_password(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    static const struct ws_param params[] = {{"Password", false}};
    char password[MEBX_PASSWORD_MAX + 1];
    bool present;
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, params, 1)) != 0 ||
        (r = ws_in_text(w, in, "Password", password, sizeof(password), &present)) != 0)
        goto out;
    if (!present) {
        r = ws_missing(w, "Password");
        goto out;
    }
    if (sim_device_state(w->dev) == SIM_STATE_PROVISIONED) {
        r = ws_return(w, PT_INVALID_PT_MODE, "already-provisioned");
        goto out;
    }
    r = sim_device_set_mebx_password(w->dev, password);
    if (r == AMT_ERR_PASSWORD_POLICY || r == AMT_ERR_INVALID_ARGUMENT)
        r = ws_return(w, PT_INVALID_PASSWORD, "password-policy");
    else if (r == 0)
        r = ws_return(w, PT_SUCCESS, NULL);
out:
    OPENSSL_cleanse(password, sizeof(password));
    ws_wipe_text(ws_child(in, "Password"));
    return r;
}

static const struct ws_method setup_methods[] = {
    {"CommitChanges", true, setup_commit},
    {"Unprovision", true, setup_unprovision},
    {"PartialUnprovision", true, setup_partial_unprovision},
    {"SetMEBxPassword", true, setup_mebx_password},
};

const struct ws_class ws_setup_and_configuration_service = {
    .name = SETUP_CLASS,
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = SIM_RIGHT_GENERAL_INFO,
    .write_rights = 0,
    .list = setup_list,
    .render = setup_render,
    .gettable = true,
    .enumerable = true,
    .methods = setup_methods,
    .n_methods = N_ELEMS(setup_methods),
};

/* --- CIM_PowerManagementService and CIM_AssociatedPowerManagementService --- */

#define POWER_CLASS "CIM_PowerManagementService"
#define POWER_NAME "Intel(r) AMT Power Management Service"

/* CIM PowerState values AMT acts on */
enum {
    CIM_POWER_ON = 2,
    CIM_POWER_CYCLE_SOFT = 5,
    CIM_POWER_OFF_SOFT = 8,
    CIM_POWER_MASTER_BUS_RESET = 10,
};

static int
power_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    ws_service_inst(&out[0], POWER_CLASS, POWER_NAME);
    *n = 1;
    return 0;
}

static int
power_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    ws_prop_keys(o, inst);
    ws_prop(o, "ElementName", POWER_NAME);
    ws_prop_u32(o, "EnabledState", 5);
    return o->err;
}

/*
 * <h:RequestPowerStateChange_INPUT><h:PowerState>8</h:PowerState>
 *   <h:ManagedElement>reference to CIM_ComputerSystem ManagedSystem</h:ManagedElement>
 * ReturnValue 0 done, 1 a PowerState AMT does not offer, 2 one that does not apply
 * to the state the computer is in (off when off), 5 a reference to another system.
 */
static int
power_change(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    static const struct ws_param params[] = {{"PowerState", false},
                                             {"ManagedElement", false},
                                             {"Time", false},
                                             {"TimeoutPeriod", false}};
    xmlNodePtr element = ws_child(in, "ManagedElement");
    enum sim_power_action action;
    char name[64];
    uint32_t state;
    bool present;
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, params, N_ELEMS(params))) !=
            0 ||
        (r = ws_in_u32(w, in, "PowerState", &state, &present)) != 0)
        return r;
    if (!present)
        return ws_missing(w, "PowerState");
    if (element != NULL &&
        (ws_epr_selector(element, WS_SYSTEM_CLASS, "Name", name, sizeof(name)) != 0 ||
         strcmp(name, "ManagedSystem") != 0))
        return ws_return(w, CIM_RV_INVALID_PARAMETER, "invalid-managed-element");
    switch (state) {
    case CIM_POWER_ON:
        action = SIM_POWER_UP;
        break;
    case CIM_POWER_CYCLE_SOFT:
        action = SIM_POWER_CYCLE;
        break;
    case CIM_POWER_OFF_SOFT:
        action = SIM_POWER_DOWN;
        break;
    case CIM_POWER_MASTER_BUS_RESET:
        action = SIM_POWER_RESET;
        break;
    default:
        return ws_return(w, CIM_RV_NOT_SUPPORTED, "power-state-not-supported");
    }
    if (sim_device_power_action(w->dev, action) != 0)
        return ws_return(w, CIM_RV_UNKNOWN_ERROR, "wrong-power-state");
    return ws_return(w, CIM_RV_OK, NULL);
}

static const struct ws_method power_methods[] = {
    {"RequestPowerStateChange", true, power_change},
};

const struct ws_class ws_power_management_service = {
    .name = POWER_CLASS,
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = SIM_RIGHT_REMOTE_CONTROL | SIM_RIGHT_GENERAL_INFO,
    .write_rights = SIM_RIGHT_REMOTE_CONTROL,
    .list = power_list,
    .render = power_render,
    .gettable = true,
    .enumerable = true,
    .methods = power_methods,
    .n_methods = N_ELEMS(power_methods),
};

static int
apms_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    memset(&out[0], 0, sizeof(out[0]));
    snprintf(out[0].id, sizeof(out[0].id), "power");
    *n = 1;
    return 0;
}

/* PowerState 2 on, 8 off; what may be asked next depends on it. */
static int
apms_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    struct ws_inst service;
    bool on = sim_device_power(w->dev) == SIM_POWER_ON;

    ws_service_inst(&service, POWER_CLASS, POWER_NAME);
    ws_prop_epr(o, "ServiceProvided", POWER_CLASS, service.keys, service.n_keys);
    ws_prop_epr(o, "UserOfService", WS_SYSTEM_CLASS, managed_system,
                N_ELEMS(managed_system));
    ws_prop_u32(o, "PowerState", on ? CIM_POWER_ON : CIM_POWER_OFF_SOFT);
    if (on) {
        ws_prop_u32(o, "AvailableRequestedPowerStates", CIM_POWER_CYCLE_SOFT);
        ws_prop_u32(o, "AvailableRequestedPowerStates", CIM_POWER_OFF_SOFT);
        ws_prop_u32(o, "AvailableRequestedPowerStates", CIM_POWER_MASTER_BUS_RESET);
    } else {
        ws_prop_u32(o, "AvailableRequestedPowerStates", CIM_POWER_ON);
    }
    return o->err;
}

const struct ws_class ws_associated_power_management_service = {
    .name = "CIM_AssociatedPowerManagementService",
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = SIM_RIGHT_REMOTE_CONTROL | SIM_RIGHT_GENERAL_INFO,
    .list = apms_list,
    .render = apms_render,
    .gettable = true,
    .enumerable = true,
};

/* --- AMT_AuditLog (AMT-AUDIT: 4.0 and later) --- */

#define AUDIT_CLASS "AMT_AuditLog"
#define AUDIT_NAME "Intel(r) AMT:Audit Log"

static int
audit_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    memset(&out[0], 0, sizeof(out[0]));
    snprintf(out[0].id, sizeof(out[0].id), "audit");
    ws_inst_key(&out[0], "CreationClassName", AUDIT_CLASS);
    ws_inst_key(&out[0], "Name", AUDIT_NAME);
    *n = 1;
    return 0;
}

static int
audit_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    bool on = sim_device_switch(w->dev, SIM_SWITCH_AUDIT);

    ws_prop_keys(o, inst);
    ws_prop(o, "ElementName", AUDIT_NAME);
    ws_prop_u32(o, "EnabledState", on ? 2 : 3);
    ws_prop_u32(o, "RequestedState", on ? 2 : 3);
    ws_prop_u32(o, "CurrentNumberOfRecords", 0);
    ws_prop_u32(o, "PercentageFree", 100);
    return o->err;
}

static int
audit_state(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    return switch_state_change(w, in, SIM_SWITCH_AUDIT);
}

static const struct ws_method audit_methods[] = {
    {"RequestStateChange", true, audit_state},
};

const struct ws_class ws_audit_log = {
    .name = AUDIT_CLASS,
    .feature = SIM_FEATURE_AUDIT,
    .unsupported_id = "AMT-AUDIT",
    .read_rights = SIM_RIGHT_EVENT_LOG,
    .write_rights = 0,
    .list = audit_list,
    .render = audit_render,
    .gettable = true,
    .enumerable = true,
    .methods = audit_methods,
    .n_methods = N_ELEMS(audit_methods),
};
