#include "console.h"

#include "amtclient.h"
#include "curl_loop.h"
#include "err.h"
#include "loop.h"
#include "soap.h"
#include "wsman.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A discovery page is a few hundred bytes; anything beyond this is not AMT's. */
#define DISCOVERY_BODY_MAX 4096
#define SERVER_PREFIX "Intel(R) Active Management Technology "
/* The IANA enterprise number of Intel, which RemoteControl commands carry. */
#define IANA_INTEL "343"

const char *
console_state_name(enum console_state state)
{
    switch (state) {
    case CONSOLE_NOT_AMT:
        return "not-amt";
    case CONSOLE_NOT_PROVISIONED:
        return "not-provisioned";
    case CONSOLE_PROVISIONED:
        return "provisioned";
    }
    return "unknown";
}

static int
check_ipv4(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (host == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return 0;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return AMT_ERR_NET_IPV6;
    return AMT_ERR_INVALID_ARGUMENT;
}

struct probe {
    char version[CONSOLE_VERSION_MAX];
    bool amt;
    char body[DISCOVERY_BODY_MAX + 1];
    size_t len;
    bool done;
    CURLcode code;
};

/* Server: Intel(R) Active Management Technology 4.0.0 */
static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
    struct probe *p = arg;
    size_t len = size * n, plen = strlen(SERVER_PREFIX), i;
    const char *v;

    if (len < 7 || strncasecmp(data, "Server:", 7) != 0)
        return len;
    v = data + 7;
    len -= 7;
    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (len < plen || strncmp(v, SERVER_PREFIX, plen) != 0)
        return size * n;
    v += plen;
    len -= plen;
    for (i = 0; i < len && i + 1 < sizeof(p->version) &&
                (v[i] == '.' || (v[i] >= '0' && v[i] <= '9'));
         i++)
        p->version[i] = v[i];
    p->version[i] = '\0';
    p->amt = i > 0;
    return size * n;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    struct probe *p = arg;
    size_t len = size * n;

    if (len > DISCOVERY_BODY_MAX - p->len)
        return 0;
    memcpy(p->body + p->len, data, len);
    p->len += len;
    p->body[p->len] = '\0';
    return len;
}

static void
on_probe_done(CURL *easy, CURLcode code, void *arg)
{
    struct probe *p = arg;

    (void)easy;
    p->code = code;
    p->done = true;
}

/* True when the port answered as AMT. */
static bool
probe_port(struct amt_loop *loop, struct curl_loop *cl, const char *host, bool tls,
           unsigned connect_port, double timeout, struct probe *p)
{
    char url[128];
    CURL *easy;

    memset(p, 0, sizeof(*p));
    snprintf(url, sizeof(url), "%s://%s:%u/", tls ? "https" : "http", host, connect_port);
    if ((easy = curl_easy_init()) == NULL)
        return false;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, p);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, p);
    /* Nothing secret is sent, and a device in setup has a self-signed certificate:
     * discovery only reads what any client on the network may read. */
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
    if (curl_loop_add(cl, easy, on_probe_done, p) != 0) {
        curl_easy_cleanup(easy);
        return false;
    }
    /* the loop also runs whatever else lives on it (in tests, the device itself) */
    while (!p->done)
        if (loop_run_once(loop, 100) < 0) {
            curl_loop_remove(cl, easy);
            break;
        }
    curl_easy_cleanup(easy);
    return p->done && p->amt && (p->code == CURLE_OK || p->code == CURLE_WRITE_ERROR);
}

int
console_discover(struct amt_loop *loop, struct curl_loop *cl, const char *host,
                 unsigned connect_http, unsigned connect_https, double timeout,
                 struct console_discovery *out)
{
    struct probe p;
    unsigned ports[2] = {connect_http ? connect_http : AMT_CLIENT_PORT_HTTP,
                         connect_https ? connect_https : AMT_CLIENT_PORT_HTTPS};
    int r;

    memset(out, 0, sizeof(*out));
    out->state = CONSOLE_NOT_AMT;
    if ((r = check_ipv4(host)) != 0)
        return r;
    for (size_t i = 0; i < 2; i++) {
        if (!probe_port(loop, cl, host, i == 1, ports[i], timeout, &p))
            continue;
        out->port = i == 0 ? AMT_CLIENT_PORT_HTTP : AMT_CLIENT_PORT_HTTPS;
        snprintf(out->version, sizeof(out->version), "%s", p.version);
        out->state = strstr(p.body, "not provisioned") != NULL ? CONSOLE_NOT_PROVISIONED
                                                               : CONSOLE_PROVISIONED;
        return 0;
    }
    return 0;
}

static const char *const power_names[] = {"on", "off", "reset", "cycle"};

const char *
console_power_name(enum console_power op)
{
    return (unsigned)op < 4 ? power_names[op] : NULL;
}

int
console_power_parse(const char *text, enum console_power *out)
{
    for (int i = 0; i < 4; i++)
        if (text != NULL && strcmp(text, power_names[i]) == 0) {
            *out = (enum console_power)i;
            return 0;
        }
    return AMT_ERR_INVALID_ARGUMENT;
}

/* --- one operation on one session, run to its end on the loop --- */

enum op_kind {
    OP_POWER,
    OP_UNPROVISION,
};

struct op {
    enum op_kind kind;
    enum console_power power;
    bool done;
    int err;
    char *msg;
    size_t msglen;
    unsigned port;
};

static void
op_fail(struct op *o, const struct amt_result *res, const char *what)
{
    o->done = true;
    o->err = res->err != 0 ? res->err : AMT_ERR_CLIENT_REPLY;
    if (strncmp(res->reason, "port-", 5) == 0)
        snprintf(o->msg, o->msglen, "%s: port %u unreachable (%s; PORT-BLOCKED)", what,
                 o->port, res->reason);
    else if (res->reason[0] != '\0')
        snprintf(o->msg, o->msglen, "%s: %s%s%s", what, res->reason,
                 res->detail[0] != '\0' ? ": " : "", res->detail);
    else
        snprintf(o->msg, o->msglen, "%s: refused by the device", what);
}

static void
on_final(struct amt_session *s, struct amt_result *res, void *arg)
{
    struct op *o = arg;

    (void)s;
    if (res->err != 0) {
        op_fail(o, res, o->kind == OP_POWER ? "power" : "unprovision");
        return;
    }
    if (res->soap.response != NULL && res->soap.status != 0) {
        o->done = true;
        o->err = AMT_ERR_CLIENT_REPLY;
        snprintf(o->msg, o->msglen, "the device refused: status %u (%s)",
                 (unsigned)res->soap.status, soap_status_name(res->soap.status));
        return;
    }
    if (res->soap.response == NULL && res->wsman.return_value != 0) {
        o->done = true;
        o->err = AMT_ERR_CLIENT_REPLY;
        snprintf(o->msg, o->msglen, "the device refused: ReturnValue %u",
                 (unsigned)res->wsman.return_value);
        return;
    }
    o->done = true;
    o->err = 0;
}

static int
send_soap(struct amt_session *s, struct op *o)
{
    static const char *const commands[] = {"17", "18", "16", "19"};
    const char *service =
        o->kind == OP_POWER ? "RemoteControl" : "SecurityAdministration";
    const char *method = o->kind == OP_POWER ? "RemoteControl" : "Unprovision";
    struct soap_msg *m = NULL;
    char ns[256];
    int r;

    if ((r = soap_service_ns(service, NULL, ns, sizeof(ns))) != 0 ||
        (r = soap_request_new(ns, method, &m)) != 0)
        goto out;
    if (o->kind == OP_POWER) {
        if ((r = soap_msg_add(m, NULL, "Command", commands[o->power], NULL)) != 0 ||
            (r = soap_msg_add(m, NULL, "IanaOemNumber", IANA_INTEL, NULL)) != 0)
            goto out;
    } else if ((r = soap_msg_add(m, NULL, "ProvisioningMode", "0", NULL)) != 0)
        goto out;
    r = amt_session_soap(s, service, ns, method, m, on_final, o);
out:
    soap_msg_free(m);
    return r;
}

static int
send_wsman(struct amt_session *s, struct op *o)
{
    static const char *const states[] = {"2", "8", "10", "5"};
    const char *cls = o->kind == OP_POWER ? "CIM_PowerManagementService"
                                          : "AMT_SetupAndConfigurationService";
    const char *method = o->kind == OP_POWER ? "RequestPowerStateChange" : "Unprovision";
    struct wsman_msg *m = NULL;
    char to[256], uri[256];
    int r;

    if ((r = amt_session_wsman_to(s, to, sizeof(to))) != 0 ||
        (r = wsman_class_uri(cls, uri, sizeof(uri))) != 0 ||
        (r = wsman_request_new(WSMAN_INVOKE, to, uri, method, &m)) != 0)
        goto out;
    if (o->kind == OP_POWER)
        r = wsman_msg_add(m, NULL, "PowerState", states[o->power], NULL);
    else
        r = wsman_msg_add(m, NULL, "ProvisioningMode", "1", NULL);
    if (r != 0)
        goto out;
    r = amt_session_wsman(s, m, on_final, o);
out:
    wsman_msg_free(m);
    return r;
}

/* GetCoreVersion's reply: <AMTVersion>4.0.0</AMTVersion> after the status. */
static void
on_version(struct amt_session *s, struct amt_result *res, void *arg)
{
    struct op *o = arg;
    xmlNodePtr v;
    xmlChar *text = NULL;
    unsigned major = 0;
    int r;

    if (res->err != 0 || res->soap.status != 0) {
        op_fail(o, res, "GetCoreVersion");
        return;
    }
    if ((v = soap_reply_get_at(&res->soap, 1)) != NULL &&
        (text = xmlNodeGetContent(v)) != NULL)
        major = (unsigned)strtoul((const char *)text, NULL, 10);
    xmlFree(text);
    r = major >= 3 ? send_wsman(s, o) : send_soap(s, o);
    if (r != 0) {
        o->done = true;
        o->err = r;
        snprintf(o->msg, o->msglen, "cannot send the request: %s", amt_strerror(r));
    }
}

static int
run_op(struct amt_loop *loop, struct amt_client *client, const struct console_target *t,
       struct op *o)
{
    struct amt_session_config cfg;
    struct amt_credential cred = {t->user, t->password};
    struct amt_session *s = NULL;
    struct soap_msg *m = NULL;
    char ns[256];
    int r;

    if ((r = check_ipv4(t->host)) != 0) {
        snprintf(o->msg, o->msglen, "%s: %s", t->host,
                 r == AMT_ERR_NET_IPV6 ? "IPv6 is not supported (NET-IPV4)"
                                       : "not an IPv4 address");
        return r;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.host = t->host;
    cfg.port = t->port;
    cfg.connect_port = t->connect_port;
    cfg.timeout = t->timeout;
    cfg.trust = t->ca_file != NULL ? AMT_TRUST_CA : AMT_TRUST_PIN;
    cfg.ca_file = t->ca_file;
    /* AMT's certificate names the computer, while the console may dial an address */
    cfg.expected_host = t->ca_file == NULL         ? NULL
                        : t->expected_host != NULL ? t->expected_host
                                                   : t->host;
    cfg.credentials = &cred;
    cfg.n_credentials = 1;
    o->port = t->port;
    if ((r = amt_session_new(client, &cfg, &s)) != 0) {
        snprintf(o->msg, o->msglen, "session: %s", amt_strerror(r));
        goto out;
    }
    if ((r = soap_service_ns("SecurityAdministration", NULL, ns, sizeof(ns))) != 0 ||
        (r = soap_request_new(ns, "GetCoreVersion", &m)) != 0 ||
        (r = amt_session_soap(s, "SecurityAdministration", ns, "GetCoreVersion", m,
                              on_version, o)) != 0) {
        snprintf(o->msg, o->msglen, "cannot send the request: %s", amt_strerror(r));
        goto out;
    }
    while (!o->done)
        if ((r = loop_run_once(loop, 1000)) < 0)
            goto out;
    r = o->err;
out:
    soap_msg_free(m);
    amt_session_free(s);
    return r;
}

int
console_power(struct amt_loop *loop, struct amt_client *client,
              const struct console_target *t, enum console_power op, char *err,
              size_t errlen)
{
    struct op o = {.kind = OP_POWER, .power = op, .msg = err, .msglen = errlen};

    if (console_power_name(op) == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    return run_op(loop, client, t, &o);
}

int
console_unprovision(struct amt_loop *loop, struct amt_client *client,
                    const struct console_target *t, char *err, size_t errlen)
{
    struct op o = {.kind = OP_UNPROVISION, .msg = err, .msglen = errlen};

    return run_op(loop, client, t, &o);
}
