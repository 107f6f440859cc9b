/*
 * AMT_AuthorizationService: the user ACL entries of OOB-8.1 ("removed, then
 * configured"). Entries are the device's own (sim_device_acl_*); what the device
 * does not keep (the realms as given, AccessPermission) is kept under p2.acl.
 *
 * Handles are opaque to clients, so they are made from the user name (31 bits of
 * its SHA-256): they stay the same when another entry is removed, which indices
 * would not, and need no bookkeeping of their own.
 *
 * Removing every entry, one handle at a time, is how a client empties the list
 * (AMT has no "remove all").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "realms.h"
#include "wsman_classes.h"
#include "xmlsafe.h"

#define CLASS "AMT_AuthorizationService"
#define REALMS_MAX 32
#define HANDLES_PER_CALL 50
#define USER_MAX                                                                         \
    64 /* longer than AMT allows: the device's policy says why it refuses                \
        */

int
ws_realms_to_rights(const uint32_t *realms, size_t n, unsigned *rights)
{
    *rights = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned right;

        if (sim_realm_right(realms[i], &right) != 0)
            return AMT_ERR_INVALID_ARGUMENT;
        *rights |= right;
    }
    return 0;
}

size_t
ws_rights_to_realms(unsigned rights, uint32_t *realms, size_t max)
{
    return sim_rights_to_realms(rights, realms, max);
}

static uint32_t
user_handle(const char *user)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    uint32_t h;

    if (EVP_Digest(user, strlen(user), md, &len, EVP_sha256(), NULL) != 1)
        return 0;
    h = ((uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3]) &
        0x7fffffffu;
    return h != 0 ? h : 1;
}

/* The index of the ACL entry with this handle, or -1. */
static long
entry_of_handle(struct sim_device *dev, uint32_t handle)
{
    for (size_t i = 0; i < sim_device_acl_count(dev); i++) {
        const char *user = sim_device_acl_user(dev, i, NULL);

        if (user != NULL && user_handle(user) == handle)
            return (long)i;
    }
    return -1;
}

static int
list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    ws_service_inst(&out[0], CLASS, "Intel(r) AMT Authorization Service");
    *n = 1;
    return 0;
}

static int
render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    ws_prop_keys(o, inst);
    ws_prop(o, "ElementName", "Intel(r) AMT Authorization Service");
    ws_prop_u32(o, "EnabledState", 5); /* CIM "Not Applicable": always on */
    return o->err;
}

static void
forget_entry_data(struct sim_device *dev, uint32_t handle)
{
    char prefix[64];

    if (ws_p2_key(prefix, sizeof(prefix), "acl.%u.", (unsigned)handle) == 0)
        sim_flash_remove_prefix(sim_device_flash(dev), prefix, NULL);
}

/*
 * <h:AddUserAclEntryEx_INPUT><h:DigestUsername>operator1</h:DigestUsername>
 *   <h:DigestPassword>base64 of MD5(user:realm:password)</h:DigestPassword>
 *   <h:AccessPermission>2</h:AccessPermission><h:Realms>2</h:Realms><h:Realms>5</h:Realms>
 */
static int
add_entry(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    static const struct ws_param params[] = {
        {"DigestUsername", false},  {"DigestPassword", false},
        {"KerberosUserSid", false}, {"AccessPermission", false},
        {"Realms", true},
    };
    char user[USER_MAX + 1], b64[128], key[96], text[REALMS_MAX * 11 + 1];
    unsigned char *ha1 = NULL, probe[16];
    uint32_t realms[REALMS_MAX], perm = 2, handle, rv = PT_SUCCESS;
    size_t ha1_len = 0, n_realms = 0, used = 0;
    unsigned rights = 0;
    bool present, has_pw, has_perm;
    const char *why = NULL;
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, params, N_ELEMS(params))) !=
            0 ||
        (r = ws_in_text(w, in, "DigestUsername", user, sizeof(user), &present)) != 0 ||
        (r = ws_in_text(w, in, "DigestPassword", b64, sizeof(b64), &has_pw)) != 0)
        goto out;
    for (xmlNodePtr c = ws_child(in, "Realms"); c != NULL;
         c = xmlsafe_next(c, NULL, "Realms")) {
        if (n_realms == REALMS_MAX) {
            r = ws_schema(w, "more than %d Realms", REALMS_MAX);
            goto out;
        }
        if (xmlsafe_text_u32(c, &realms[n_realms++]) != 0) {
            r = ws_schema(w, "Realms must be numbers");
            goto out;
        }
    }
    if ((r = ws_in_u32(w, in, "AccessPermission", &perm, &has_perm)) != 0)
        goto out;
    if (ws_child(in, "KerberosUserSid") != NULL) {
        rv = PT_UNSUPPORTED, why = "kerberos-user-unsupported";
    } else if (!present || !has_pw || n_realms == 0 || perm > 2) {
        rv = PT_INVALID_PARAMETER, why = "invalid-parameter";
    } else if (ws_base64_decode(b64, &ha1, &ha1_len, 16) != 0 || ha1_len != 16) {
        rv = PT_INVALID_PASSWORD, why = "invalid-digest-password";
    } else if (ws_realms_to_rights(realms, n_realms, &rights) != 0) {
        rv = PT_INVALID_REALM, why = "invalid-realm";
    } else if (rights == 0) {
        /* an account that can reach nothing here is of no use to anyone */
        rv = PT_INVALID_REALM, why = "realm-without-right";
    } else if (sim_device_user_ha1(w->dev, user, probe, NULL) == 0) {
        rv = PT_DUPLICATE, why = "duplicate-user";
    } else if (sim_device_acl_count(w->dev) >= SIM_ACL_MAX) {
        rv = PT_MAX_LIMIT_REACHED, why = "acl-full";
    } else if ((handle = user_handle(user)) == 0 ||
               entry_of_handle(w->dev, handle) >= 0) {
        rv = PT_INTERNAL_ERROR, why = "handle-collision";
    }
    OPENSSL_cleanse(probe, sizeof(probe));
    if (rv != PT_SUCCESS) {
        r = ws_return(w, rv, why);
        goto out;
    }
    r = sim_device_acl_add_ha1(w->dev, user, ha1, rights);
    if (r == AMT_ERR_USERNAME_POLICY || r == AMT_ERR_INVALID_ARGUMENT) {
        r = ws_return(w, PT_INVALID_NAME, "invalid-user-name");
        goto out;
    }
    if (r != 0)
        goto out;
    text[0] = '\0';
    for (size_t i = 0; i < n_realms; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%u", i ? "," : "",
                                 (unsigned)realms[i]);
    snprintf(key, sizeof(key), "acl.%u.realms", (unsigned)handle);
    if ((r = ws_p2_set(w, key, text)) != 0)
        goto out;
    snprintf(key, sizeof(key), "acl.%u.rights", (unsigned)handle);
    if ((r = ws_p2_set_u(w, key, rights)) != 0)
        goto out;
    snprintf(key, sizeof(key), "acl.%u.permission", (unsigned)handle);
    if ((r = ws_p2_set_u(w, key, perm)) != 0 || (r = ws_p2_commit(w)) != 0)
        goto out;
    if ((r = ws_return(w, PT_SUCCESS, NULL)) != 0)
        goto out;
    {
        struct ws_out o;

        ws_out_reply(w, &o);
        ws_prop_u32(&o, "Handle", handle);
        r = o.err;
    }
out:
    OPENSSL_cleanse(b64, sizeof(b64));
    if (ha1 != NULL)
        OPENSSL_cleanse(ha1, ha1_len);
    free(ha1);
    ws_wipe_text(ws_child(in, "DigestPassword"));
    return r;
}

static int
read_handle(struct ws_req *w, xmlNodePtr in, uint32_t *handle)
{
    static const struct ws_param params[] = {{"Handle", false}};
    bool present;
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, params, 1)) != 0 ||
        (r = ws_in_u32(w, in, "Handle", handle, &present)) != 0)
        return r;
    return present ? 0 : ws_missing(w, "Handle");
}

static int
remove_user(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    uint32_t handle;
    long i;
    int r;

    if ((r = read_handle(w, in, &handle)) != 0)
        return r;
    if ((i = entry_of_handle(w->dev, handle)) < 0)
        return ws_return(w, PT_INVALID_HANDLE, "invalid-handle");
    if ((r = sim_device_acl_remove(w->dev, (size_t)i)) != 0)
        return r;
    forget_entry_data(w->dev, handle);
    if ((r = ws_p2_commit(w)) != 0)
        return r;
    return ws_return(w, PT_SUCCESS, NULL);
}

/* <h:EnumerateUserAclEntries_INPUT><h:StartIndex>1</h:StartIndex>: 1 is the first. */
static int
enumerate_users(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    static const struct ws_param params[] = {{"StartIndex", false}};
    size_t n = sim_device_acl_count(w->dev), count = 0;
    uint32_t start = 1;
    struct ws_out o;
    bool present;
    int r;

    if ((r = ws_check_params(w, in, w->call->resource_uri, params, 1)) != 0 ||
        (r = ws_in_u32(w, in, "StartIndex", &start, &present)) != 0)
        return r;
    if (start == 0)
        return ws_return(w, PT_INVALID_INDEX, "invalid-index");
    if ((r = ws_return(w, PT_SUCCESS, NULL)) != 0)
        return r;
    if (start - 1 < n)
        count = n - (start - 1) < HANDLES_PER_CALL ? n - (start - 1) : HANDLES_PER_CALL;
    ws_out_reply(w, &o);
    ws_prop_u32(&o, "TotalCount", (uint32_t)n);
    ws_prop_u32(&o, "HandlesCount", (uint32_t)count);
    for (size_t i = start - 1, k = 0; k < count; i++, k++) {
        const char *user = sim_device_acl_user(w->dev, i, NULL);

        ws_prop_u32(&o, "Handles", user != NULL ? user_handle(user) : 0);
    }
    return o.err;
}

static int
get_user(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    uint32_t handle, realms[REALMS_MAX];
    const char *user, *stored, *stored_rights, *perm;
    char key[96], copy[REALMS_MAX * 11 + 1];
    unsigned rights = 0;
    size_t n;
    struct ws_out o;
    long i;
    int r;

    if ((r = read_handle(w, in, &handle)) != 0)
        return r;
    if ((i = entry_of_handle(w->dev, handle)) < 0)
        return ws_return(w, PT_INVALID_HANDLE, "invalid-handle");
    user = sim_device_acl_user(w->dev, (size_t)i, &rights);
    if ((r = ws_return(w, PT_SUCCESS, NULL)) != 0)
        return r;
    ws_out_reply(w, &o);
    ws_prop(&o, "DigestUsername", user);
    snprintf(key, sizeof(key), "acl.%u.permission", (unsigned)handle);
    perm = ws_p2_get(w, key);
    ws_prop(&o, "AccessPermission", perm != NULL ? perm : "2");
    snprintf(key, sizeof(key), "acl.%u.realms", (unsigned)handle);
    stored = ws_p2_get(w, key);
    snprintf(key, sizeof(key), "acl.%u.rights", (unsigned)handle);
    stored_rights = ws_p2_get(w, key);
    /* the realms as given, unless the entry was changed by other means since */
    if (stored != NULL && stored_rights != NULL &&
        strtoul(stored_rights, NULL, 10) == rights) {
        snprintf(copy, sizeof(copy), "%s", stored);
        for (char *save = NULL, *t = strtok_r(copy, ",", &save); t != NULL;
             t = strtok_r(NULL, ",", &save))
            ws_prop(&o, "Realms", t);
    } else {
        n = ws_rights_to_realms(rights, realms, REALMS_MAX);
        for (size_t k = 0; k < n; k++)
            ws_prop_u32(&o, "Realms", realms[k]);
    }
    return o.err;
}

static const struct ws_method methods[] = {
    {"AddUserAclEntryEx", true, add_entry},
    {"RemoveUserAclEntry", true, remove_user},
    {"EnumerateUserAclEntries", false, enumerate_users},
    {"GetUserAclEntryEx", false, get_user},
};

const struct ws_class ws_authorization_service = {
    .name = CLASS,
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = 0,
    .write_rights = 0,
    .list = list,
    .render = render,
    .gettable = true,
    .methods = methods,
    .n_methods = N_ELEMS(methods),
};
