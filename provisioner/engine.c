#include "engine.h"

#include "amtclient.h"
#include "ca.h"
#include "config.h"
#include "db.h"
#include "directory.h"
#include "err.h"
#include "evlog.h"
#include "hello.h"
#include "loop.h"
#include "password.h"
#include "phases.h"
#include "soap.h"
#include "uuid.h"
#include "wsman.h"
#include "xmlsafe.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* the AMT SOAP services of phase 1 */
#define SA "SecurityAdministration"
#define NA "NetworkAdministration"
#define NT "NetworkTime"

int
prov_engine_new(struct amt_loop *loop, struct amt_client *client, struct site_db *db,
                struct dir *dir, struct site_ca *ca, const struct prov_config *cfg,
                struct evlog *evlog, struct prov_engine **out)
{
    struct prov_engine *e;

    *out = NULL;
    if (loop == NULL || client == NULL || db == NULL || dir == NULL || ca == NULL ||
        cfg == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((e = calloc(1, sizeof(*e))) == NULL)
        return AMT_ERR_ALLOC;
    e->loop = loop;
    e->client = client;
    e->db = db;
    e->dir = dir;
    e->ca = ca;
    e->cfg = cfg;
    e->ev = evlog;
    *out = e;
    return 0;
}

void
prov_engine_set_options(struct prov_engine *e, const struct prov_engine_options *o)
{
    e->o = *o;
}

static void
device_free(struct device *d)
{
    if (d == NULL)
        return;
    amt_session_free(d->session);
    site_ca_cert_free(d->cert);
    OPENSSL_cleanse(d->password, sizeof(d->password));
    free(d);
}

void
prov_engine_free(struct prov_engine *e)
{
    if (e == NULL)
        return;
    while (e->devices != NULL) {
        struct device *d = e->devices;

        e->devices = d->next;
        device_free(d);
    }
    free(e);
}

static struct device *
find(const struct prov_engine *e, const char *uuid)
{
    for (struct device *d = e->devices; d != NULL; d = d->next)
        if (strcasecmp(d->uuid, uuid) == 0)
            return d;
    return NULL;
}

bool
prov_engine_in_flight(const struct prov_engine *e, const char *uuid)
{
    return find(e, uuid) != NULL;
}

unsigned
prov_engine_count(const struct prov_engine *e)
{
    return e->count;
}

double
engine_now(const struct device *d)
{
    return loop_now(d->e->loop);
}

void
engine_emitted(const struct device *d, const char *id, int r)
{
    if (r != 0)
        fprintf(stderr, "engine: %s: event %s not written: %s\n", d->uuid, id,
                amt_strerror(r));
}

/* The ID of a step, its in-band twin when the device came in band. */
const char *
engine_id(const struct device *d, const char *oob, const char *ib)
{
    return d->in_band && ib != NULL ? ib : oob;
}

void
engine_state(struct device *d, enum site_state st, const char *step, const char *reason)
{
    if (site_db_set_state(d->e->db, d->uuid, st, step, reason) != 0)
        fprintf(stderr, "engine: %s: database state %s not recorded\n", d->uuid,
                site_state_name(st));
}

/*
 * The device leaves the engine: the callback last, since it may free the engine.
 * The session goes later, when its own callback (which may be running) returns.
 */
void
engine_finish(struct device *d, int verdict, const char *step, const char *reason)
{
    struct prov_engine *e = d->e;
    char uuid[UUID_TEXT_SIZE], st[SITE_STEP_MAX + 1], why[SITE_REASON_MAX + 1];

    for (struct device **p = &e->devices; *p != NULL; p = &(*p)->next)
        if (*p == d) {
            *p = d->next;
            break;
        }
    e->count--;
    snprintf(uuid, sizeof(uuid), "%s", d->uuid);
    snprintf(st, sizeof(st), "%s", step);
    snprintf(why, sizeof(why), "%s", reason);
    device_free(d);
    if (e->o.done != NULL)
        e->o.done(e->o.done_arg, uuid, verdict, st, why);
}

void
engine_fail(struct device *d, const char *step, const char *reason, int verdict)
{
    emit(d, step, EVLOG_RESULT_FAIL, EVLOG_REASON(reason));
    engine_state(d, SITE_STATE_FAILED, step, reason);
    engine_finish(d, verdict, step, reason);
}

/* --- requests --- */

static int
soap_send(struct device *d, const char *service, const char *method,
          struct soap_msg **msgp)
{
    int r;

    if (d->e->o.before_send != NULL)
        d->e->o.before_send(d->e->o.done_arg, d->uuid, engine_step_id(d, d->step),
                            method);
    r = amt_session_soap(d->session, service, NULL, method, *msgp, engine_on_reply, d);

    soap_msg_free(*msgp);
    *msgp = NULL;
    return r;
}

static int
soap_new(const char *service, const char *method, struct soap_msg **out)
{
    char ns[256];
    int r;

    if ((r = soap_service_ns(service, NULL, ns, sizeof(ns))) != 0)
        return r;
    return soap_request_new(ns, method, out);
}

static int
b64(const unsigned char *in, size_t len, char **out)
{
    char *s = malloc(4 * ((len + 2) / 3) + 1);

    *out = NULL;
    if (s == NULL)
        return AMT_ERR_ALLOC;
    EVP_EncodeBlock((unsigned char *)s, in, (int)len);
    *out = s;
    return 0;
}

/* base64 of MD5(user:realm:password), as SetAdminAclEntryEx takes it. */
int
engine_ha1_b64(const char *user, const char *realm, const char *password, char *out,
               size_t size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, user, strlen(user)) == 1 &&
             EVP_DigestUpdate(ctx, ":", 1) == 1 &&
             EVP_DigestUpdate(ctx, realm, strlen(realm)) == 1 &&
             EVP_DigestUpdate(ctx, ":", 1) == 1 &&
             EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &len) == 1;

    EVP_MD_CTX_free(ctx);
    if (!ok || size < 25)
        return AMT_ERR_CRYPTO;
    EVP_EncodeBlock((unsigned char *)out, md, (int)len);
    OPENSSL_cleanse(md, sizeof(md));
    return 0;
}

static int
send_tls_cert(struct device *d)
{
    struct soap_msg *m = NULL;
    xmlNodePtr chain;
    char *text = NULL;
    int r;

    if ((r = soap_new(SA, "SetTLSKeyAndCertificate", &m)) != 0)
        return r;
    if ((r = b64(d->cert->key_der, d->cert->key_der_len, &text)) != 0)
        goto out;
    r = soap_msg_add(m, NULL, "PrivateKey", text, NULL);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    text = NULL;
    if (r != 0 || (r = soap_msg_add(m, NULL, "CertificateChain", NULL, &chain)) != 0)
        goto out;
    for (size_t i = 0; i < d->cert->n_chain; i++) {
        if ((r = b64(d->cert->chain_der[i], d->cert->chain_der_len[i], &text)) != 0)
            goto out;
        r = soap_msg_add(m, chain, "Certificate", text, NULL);
        free(text);
        if (r != 0)
            goto out;
    }
    r = soap_send(d, SA, "SetTLSKeyAndCertificate", &m);
out:
    soap_msg_free(m);
    return r;
}

static int
send_admin(struct device *d)
{
    struct soap_msg *m = NULL;
    xmlNodePtr entry;
    char ha1[32];
    int r;

    if ((r = engine_ha1_b64(d->admin_user, d->realm, d->password, ha1, sizeof(ha1))) != 0)
        return r;
    if ((r = soap_new(SA, "SetAdminAclEntryEx", &m)) == 0 &&
        (r = soap_msg_add(m, NULL, "EntryEx", NULL, &entry)) == 0 &&
        (r = soap_msg_add(m, entry, "Username", d->admin_user, NULL)) == 0 &&
        (r = soap_msg_add(m, entry, "DigestPassword", ha1, NULL)) == 0)
        r = soap_send(d, SA, "SetAdminAclEntryEx", &m);
    soap_msg_free(m);
    OPENSSL_cleanse(ha1, sizeof(ha1));
    return r;
}

/* A simple call: method with at most one text parameter. */
static int
send_simple(struct device *d, const char *service, const char *method, const char *name,
            const char *value)
{
    struct soap_msg *m = NULL;
    int r;

    if ((r = soap_new(service, method, &m)) == 0 &&
        (name == NULL || (r = soap_msg_add(m, NULL, name, value, NULL)) == 0))
        r = soap_send(d, service, method, &m);
    soap_msg_free(m);
    return r;
}

/* --- steps --- */

static const char *const step_ids[][2] = {
    [STEP_VERSION] = {"AMT-VERSION", NULL}, [STEP_OTP] = {"IB-4", "IB-4"},
    [STEP_TIME] = {"OOB-7.1", "IB-10.1"},   [STEP_HOST] = {"OOB-7.2", "IB-10.2"},
    [STEP_DOMAIN] = {"OOB-7.2", "IB-10.2"}, [STEP_TLS_CERT] = {"OOB-7.3", "IB-10.3"},
    [STEP_TLS_ON] = {"OOB-7.3", "IB-10.3"}, [STEP_REALM] = {"OOB-7.4", "IB-10.4"},
    [STEP_ADMIN] = {"OOB-7.4", "IB-10.4"},  [STEP_MEBX] = {"OOB-7.5", "IB-10.5"},
    [STEP_COMMIT] = {"OOB-7.6", "IB-10.6"}, [STEP_PHASE2] = {"OOB-8.1", "IB-11.1"},
    [STEP_DONE] = {"OOB-9", "IB-12"},
};

const char *
engine_step_id(const struct device *d, unsigned s)
{
    return engine_id(d, step_ids[s][0], step_ids[s][1]);
}

/* OOB-6: the directory account, before anything changes on the device. */
static int
directory_step(struct device *d)
{
    char err[256] = "";
    const char *ou = d->row.ou[0] != '\0' ? d->row.ou : d->e->cfg->sp.directory_ou;
    int r = dir_provision_computer(d->e->dir, d->row.host, d->row.domain, ou, d->uuid,
                                   NULL, err, sizeof(err));

    if (r != 0) {
        fprintf(stderr, "engine: %s: directory: %s\n", d->uuid, err);
        engine_fail(d, engine_id(d, "OOB-6", "IB-9"), "directory-failed", r);
        return r;
    }
    emit(d, engine_id(d, "OOB-6", "IB-9"), EVLOG_RESULT_OK,
         EVLOG_STR("host", d->row.host), EVLOG_STR("domain", d->row.domain));
    return 0;
}

/* OOB-7.4 / 7.5: the password is durable before it goes on the wire. */
static int
pending(struct device *d, enum site_secret_kind kind, const char *user,
        const char *password)
{
    int r = site_db_password_pending(d->e->db, d->uuid, kind, user, password);

    if (r != 0)
        engine_fail(d, engine_step_id(d, d->step), "password-not-stored", r);
    return r;
}

void
engine_send_step(struct device *d)
{
    const struct prov_config *cfg = d->e->cfg;
    char text[64];
    int r = 0;

    engine_state(d, SITE_STATE_IN_PROGRESS, engine_step_id(d, d->step), NULL);
    switch (d->step) {
    case STEP_VERSION:
        r = send_simple(d, SA, "GetCoreVersion", NULL, NULL);
        break;
    case STEP_OTP:
        r = send_simple(d, SA, "GetProvisioningServerOTP", NULL, NULL);
        break;
    case STEP_TIME:
        snprintf(text, sizeof(text), "%lld", (long long)time(NULL));
        r = send_simple(d, NT, "SetLowAccuracyTimeSynch", "Time", text);
        break;
    case STEP_HOST:
        r = send_simple(d, NA, "SetHostName", "HostName", d->row.host);
        break;
    case STEP_DOMAIN:
        r = send_simple(d, NA, "SetDomainName", "DomainName", d->row.domain);
        break;
    case STEP_TLS_CERT:
        if ((r = site_ca_issue(d->e->ca, NULL, d->row.host, d->row.domain, &d->cert)) !=
            0) {
            engine_fail(d, engine_step_id(d, d->step), "certificate-not-issued", r);
            return;
        }
        r = send_tls_cert(d);
        break;
    case STEP_TLS_ON:
        r = send_simple(d, SA, "SetTlsEnabled", "Enabled", "true");
        break;
    case STEP_REALM:
        snprintf(d->admin_user, sizeof(d->admin_user), "%s",
                 cfg->phase1.admin_user != NULL ? cfg->phase1.admin_user : "admin");
        if ((r = password_generate(d->password, sizeof(d->password),
                                   (size_t)cfg->phase1.admin_password_length)) != 0) {
            engine_fail(d, engine_step_id(d, d->step), "password-not-generated", r);
            return;
        }
        if (pending(d, SITE_SECRET_ADMIN, d->admin_user, d->password) != 0)
            return;
        r = send_simple(d, SA, "GetDigestRealm", NULL, NULL);
        break;
    case STEP_ADMIN:
        r = send_admin(d);
        break;
    case STEP_MEBX:
        if (pending(d, SITE_SECRET_MEBX, "", cfg->phase1.mebx_password) != 0)
            return;
        d->mebx_sent = true;
        r = send_simple(d, SA, "SetMEBxPassword", "Password", cfg->phase1.mebx_password);
        break;
    case STEP_COMMIT:
        r = send_simple(d, SA, "CommitChanges", NULL, NULL);
        break;
    case STEP_PHASE2:
        r = engine_send_phase2(d);
        break;
    case STEP_DONE:
        break;
    }
    if (r != 0)
        engine_fail(d, engine_step_id(d, d->step), "client-error", r);
}

/* After SetAdminAclEntryEx: the new admin credential, the CA-issued certificate. */
static int
ca_session(struct device *d)
{
    struct prov_engine *e = d->e;
    struct amt_session_config sc;
    struct amt_credential cred = {d->admin_user, d->password};
    char fqdn[SITE_HOST_MAX + SITE_DOMAIN_MAX + 2];

    snprintf(fqdn, sizeof(fqdn), "%s.%s", d->row.host, d->row.domain);
    memset(&sc, 0, sizeof(sc));
    sc.device = d->uuid;
    sc.host = d->peer;
    sc.port = AMT_CLIENT_PORT_HTTPS;
    sc.connect_port = e->o.connect_port_https;
    sc.in_band = d->in_band;
    sc.timeout = e->o.timeout;
    sc.tls_profile = AMT_TLS_AUTO;
    sc.client_chain = e->cfg->paths.chain;
    sc.client_key = e->cfg->paths.key;
    sc.trust = AMT_TRUST_CA;
    sc.ca_file = e->o.ca_file != NULL ? e->o.ca_file : e->cfg->paths.ca_chain;
    sc.expected_host = fqdn;
    sc.credentials = &cred;
    sc.n_credentials = 1;
    /* the old session may be the one whose callback runs: it goes when that returns */
    amt_session_free(d->session);
    d->session = NULL;
    return amt_session_new(e->client, &sc, &d->session);
}

static void
committed(struct device *d)
{
    if (site_db_password_confirm(d->e->db, d->uuid, SITE_SECRET_ADMIN) != 0 ||
        (d->mebx_sent &&
         site_db_password_confirm(d->e->db, d->uuid, SITE_SECRET_MEBX) != 0)) {
        engine_fail(d, engine_step_id(d, STEP_COMMIT), "password-not-confirmed",
                    AMT_ERR_ENGINE_STEP);
        return;
    }
    d->step = STEP_PHASE2;
    engine_send_step(d);
}

/* AMT-VERSION: "X.Y" or "X.Y.Z" within the configured range. */
static bool
version_ok(struct device *d, xmlNodePtr node)
{
    struct prov_version v;
    char *text = node != NULL ? (char *)xmlNodeGetContent(node) : NULL;
    bool ok = false;

    if (text != NULL && strlen(text) < sizeof(d->version)) {
        snprintf(d->version, sizeof(d->version), "%s", text);
        ok = prov_config_version_parse(text, &v) == 0 &&
             prov_config_version_supported(d->e->cfg, &v);
    }
    xmlFree(text);
    return ok;
}

/*
 * IB-4: the OTP the device reports (base64 of its text) against the hash the site
 * keeps; a device without a hash at the site does not match.
 */
static bool
otp_matches(struct device *d, xmlNodePtr node)
{
    char *text = node != NULL ? (char *)xmlNodeGetContent(node) : NULL;
    char want[SITE_OTP_HASH_SIZE], got[SITE_OTP_HASH_SIZE];
    unsigned char otp[256], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t len = text != NULL ? strlen(text) : 0;
    int n;
    bool ok = false;

    if (text == NULL || len == 0 || len > 4 * (sizeof(otp) / 3) ||
        site_db_otp_hash_get(d->e->db, d->uuid, want, NULL) != 0)
        goto out;
    n = EVP_DecodeBlock(otp, (const unsigned char *)text, (int)len);
    if (n < 0)
        goto out;
    /* EVP_DecodeBlock counts the padding as bytes */
    for (size_t i = len; i > 0 && text[i - 1] == '='; i--)
        n--;
    if (EVP_Digest(otp, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1)
        goto out;
    for (unsigned i = 0; i < mdlen && 2 * i + 2 < sizeof(got); i++)
        snprintf(got + 2 * i, 3, "%02x", md[i]);
    ok = mdlen == 32 && strcasecmp(got, want) == 0;
out:
    OPENSSL_cleanse(otp, sizeof(otp));
    if (text != NULL) {
        OPENSSL_cleanse(text, len);
        xmlFree(text);
    }
    return ok;
}

void
engine_on_reply(struct amt_session *s, struct amt_result *res, void *arg)
{
    struct device *d = arg;
    const struct prov_config *cfg = d->e->cfg;
    const char *sid = engine_step_id(d, d->step);
    char reason[SITE_REASON_MAX + 1];

    (void)s;
    if (res->err != 0) {
        const char *at = sid;

        /* before any reply, the session's first call stands for the channel */
        if (d->step == STEP_VERSION)
            at = strncmp(res->reason, "digest-", 7) == 0 ? engine_id(d, "OOB-5", "IB-8")
                                                         : engine_id(d, "OOB-3", "IB-6");
        engine_fail(d, at, res->reason[0] != '\0' ? res->reason : "client-error",
                    res->err);
        return;
    }
    if (d->step != STEP_PHASE2 && res->soap.status != 0) {
        snprintf(reason, sizeof(reason), "amt-status-%u", (unsigned)res->soap.status);
        engine_fail(d, sid, reason, AMT_ERR_ENGINE_STEP);
        return;
    }
    switch (d->step) {
    case STEP_VERSION:
        if (!version_ok(d, soap_reply_get(&res->soap, "Version"))) {
            emit(d, "AMT-VERSION", EVLOG_RESULT_FAIL, EVLOG_REASON("unsupported-version"),
                 EVLOG_STR("version", d->version));
            engine_state(d, SITE_STATE_FAILED, "AMT-VERSION", "unsupported-version");
            engine_finish(d, AMT_ERR_ENGINE_VERSION, "AMT-VERSION",
                          "unsupported-version");
            return;
        }
        site_db_set_amt_version(d->e->db, d->uuid, d->version);
        emit(d, "AMT-VERSION", EVLOG_RESULT_OK, EVLOG_STR("version", d->version));
        if (d->in_band)
            break; /* IB-4 comes first */
        if (directory_step(d) != 0)
            return;
        d->step = STEP_OTP;
        break;
    case STEP_OTP:
        if (!otp_matches(d, soap_reply_get(&res->soap, "OTP"))) {
            engine_fail(d, "IB-4", "otp-mismatch", AMT_ERR_ENGINE_STEP);
            return;
        }
        emit(d, "IB-4", EVLOG_RESULT_OK, EVLOG_STR("site-hash", "matches"));
        if (directory_step(d) != 0)
            return;
        break;
    case STEP_REALM: {
        xmlNodePtr n = soap_reply_get(&res->soap, "Realm");
        char *text = n != NULL ? (char *)xmlNodeGetContent(n) : NULL;

        if (text == NULL || strlen(text) >= sizeof(d->realm)) {
            xmlFree(text);
            engine_fail(d, sid, "malformed-reply", AMT_ERR_ENGINE_STEP);
            return;
        }
        snprintf(d->realm, sizeof(d->realm), "%s", text);
        xmlFree(text);
        break;
    }
    case STEP_PHASE2:
        engine_phase2_reply(d, res);
        return;
    default:
        if (d->step != STEP_DOMAIN && d->step != STEP_TLS_CERT && d->step != STEP_REALM)
            emit(d, sid, EVLOG_RESULT_OK, EVLOG_INT("status", 0));
        break;
    }
    if (d->step == STEP_TLS_CERT &&
        site_db_cert_record(d->e->db, d->uuid, d->cert->cert_pem) != 0) {
        engine_fail(d, sid, "certificate-not-recorded", AMT_ERR_ENGINE_STEP);
        return;
    }
    if (d->step == STEP_ADMIN) {
        /*
         * The device now knows the admin by the new password only, and serves the
         * certificate of OOB-7.3 from its next handshake on, which the pin of the
         * first session would refuse: the rest goes over a session that trusts the
         * issuing CA and names the host.
         */
        int r = ca_session(d);

        if (r != 0) {
            engine_fail(d, sid, "client-error", r);
            return;
        }
    }
    if (d->step == STEP_COMMIT) {
        committed(d);
        return;
    }
    d->step++;
    if (d->step == STEP_MEBX) {
        if (cfg->phase1.mebx_password == NULL || !d->mebx_factory) {
            emit(d, engine_step_id(d, STEP_MEBX), EVLOG_RESULT_SKIP,
                 EVLOG_REASON(cfg->phase1.mebx_password == NULL
                                  ? "no-mebx-password-configured"
                                  : "mebx-password-already-set"));
            d->step = STEP_COMMIT;
        }
    }
    engine_send_step(d);
}

int
prov_engine_start(struct prov_engine *e, const char *uuid, const struct sockaddr_in *peer,
                  const struct hello *h, bool in_band)
{
    struct amt_session_config sc;
    struct amt_credential creds[AMT_CLIENT_CREDENTIALS_MAX];
    struct device *d = NULL;
    int r = AMT_ERR_INTERNAL;

    if (e == NULL || uuid == NULL || peer == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (find(e, uuid) != NULL)
        return AMT_ERR_ENGINE_IN_FLIGHT;
    if ((d = calloc(1, sizeof(*d))) == NULL)
        return AMT_ERR_ALLOC;
    d->e = e;
    d->in_band = in_band;
    d->mebx_factory = h == NULL || !h->admin_credentials_set;
    snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
    if (inet_ntop(AF_INET, &peer->sin_addr, d->peer, sizeof(d->peer)) == NULL ||
        (r = site_db_device_get(e->db, uuid, &d->row)) != 0)
        goto out;
    memset(&sc, 0, sizeof(sc));
    sc.device = d->uuid;
    sc.host = d->peer;
    sc.port = AMT_CLIENT_PORT_HTTPS;
    sc.connect_port = e->o.connect_port_https;
    sc.in_band = in_band;
    sc.timeout = e->o.timeout;
    sc.tls_profile = AMT_TLS_AUTO;
    sc.client_chain = e->cfg->paths.chain;
    sc.client_key = e->cfg->paths.key;
    sc.trust = AMT_TRUST_PIN;
    for (size_t i = 0; i < e->cfg->n_credentials && i < AMT_CLIENT_CREDENTIALS_MAX; i++) {
        creds[i].user = e->cfg->credentials[i].user;
        creds[i].password = e->cfg->credentials[i].password;
        sc.n_credentials = i + 1;
    }
    sc.credentials = creds;
    if ((r = amt_session_new(e->client, &sc, &d->session)) != 0)
        goto out;
    d->next = e->devices;
    e->devices = d;
    e->count++;
    d->step = STEP_VERSION;
    engine_send_step(d);
    return 0;
out:
    device_free(d);
    return r;
}

/* --- recovery --- */

static void
on_recover(struct amt_session *s, struct amt_result *res, void *arg)
{
    struct device *d = arg;
    struct site_db *db = d->e->db;
    const char *outcome;
    int r;

    (void)s;
    if (res->err != 0) {
        /* nothing known: the pending value stays for the next try */
        emit(d, "OOB-7.4", EVLOG_RESULT_FAIL,
             EVLOG_REASON(res->reason[0] != '\0' ? res->reason : "client-error"),
             EVLOG_STR("recover", "pending-kept"));
        engine_finish(d, res->err, "recover",
                      res->reason[0] != '\0' ? res->reason : "client-error");
        return;
    }
    /* the list starts with the pending credential */
    if (res->credential == 0) {
        r = site_db_password_confirm(db, d->uuid, SITE_SECRET_ADMIN);
        outcome = "pending-confirmed";
    } else {
        r = site_db_password_discard_pending(db, d->uuid, SITE_SECRET_ADMIN);
        outcome = "pending-discarded";
    }
    if (r != 0) {
        engine_finish(d, r, "recover", "database-error");
        return;
    }
    emit(d, "OOB-7.4", EVLOG_RESULT_INFO, EVLOG_STR("recover", outcome),
         EVLOG_INT("credential", res->credential));
    engine_state(d, SITE_STATE_FAILED, "OOB-7.4", outcome);
    engine_finish(d, 0, "recover", outcome);
}

int
prov_engine_recover(struct prov_engine *e, const char *uuid,
                    const struct sockaddr_in *peer)
{
    struct amt_session_config sc;
    struct amt_credential creds[AMT_CLIENT_CREDENTIALS_MAX];
    struct site_credential sc_admin;
    struct soap_msg *m = NULL;
    struct device *d = NULL;
    size_t n = 0;
    int r;

    memset(&sc_admin, 0, sizeof(sc_admin));
    if (e == NULL || uuid == NULL || peer == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (find(e, uuid) != NULL)
        return AMT_ERR_ENGINE_IN_FLIGHT;
    if ((r = site_db_credential_get(e->db, uuid, SITE_SECRET_ADMIN, &sc_admin)) != 0)
        return r;
    if (!sc_admin.has_pending) {
        r = AMT_ERR_SITE_NO_PENDING;
        goto out;
    }
    if ((d = calloc(1, sizeof(*d))) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    d->e = e;
    d->step = STEP_ADMIN;
    snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
    if (inet_ntop(AF_INET, &peer->sin_addr, d->peer, sizeof(d->peer)) == NULL) {
        r = AMT_ERR_INVALID_ARGUMENT;
        goto out;
    }
    creds[n].user = sc_admin.pending_user;
    creds[n++].password = sc_admin.pending_password;
    if (sc_admin.has_current) {
        creds[n].user = sc_admin.user;
        creds[n++].password = sc_admin.password;
    }
    for (size_t i = 0; i < e->cfg->n_credentials && n < AMT_CLIENT_CREDENTIALS_MAX; i++) {
        creds[n].user = e->cfg->credentials[i].user;
        creds[n++].password = e->cfg->credentials[i].password;
    }
    memset(&sc, 0, sizeof(sc));
    sc.device = d->uuid;
    sc.host = d->peer;
    sc.port = AMT_CLIENT_PORT_HTTPS;
    sc.connect_port = e->o.connect_port_https;
    sc.timeout = e->o.timeout;
    sc.tls_profile = AMT_TLS_AUTO;
    sc.client_chain = e->cfg->paths.chain;
    sc.client_key = e->cfg->paths.key;
    sc.trust = AMT_TRUST_PIN;
    sc.credentials = creds;
    sc.n_credentials = n;
    if ((r = amt_session_new(e->client, &sc, &d->session)) != 0 ||
        (r = soap_new(SA, "GetCoreVersion", &m)) != 0 ||
        (r = amt_session_soap(d->session, SA, NULL, "GetCoreVersion", m, on_recover,
                              d)) != 0)
        goto out;
    d->next = e->devices;
    e->devices = d;
    e->count++;
    d = NULL;
    r = 0;
out:
    soap_msg_free(m);
    device_free(d);
    site_credential_wipe(&sc_admin);
    return r;
}

/* --- the hello listener's hooks --- */

void
prov_engine_hello_start(void *engine, const struct amt_uuid *uuid,
                        const struct sockaddr_in *peer, const struct hello *h)
{
    char text[UUID_TEXT_SIZE];
    int r = prov_engine_start(engine, uuid_format(uuid, text), peer, h, false);

    if (r != 0)
        fprintf(stderr, "prov_engine_hello_start: %s: %s\n", text, amt_strerror(r));
}

int
prov_engine_hello_in_flight(void *engine, const struct amt_uuid *uuid, bool *yes)
{
    char text[UUID_TEXT_SIZE];

    *yes = prov_engine_in_flight(engine, uuid_format(uuid, text));
    return 0;
}
