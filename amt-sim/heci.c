#include "heci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "err.h"
#include "evlog.h"
#include "linesrv.h"

#define STATUS_INVALID_PROVISIONING_STATE 0x20
#define STATUS_INVALID_PARAMETER 0x24

struct sim_heci {
    struct sim_device *dev;
    struct sim_linesrv *srv;
};

#define HECI_EVENT(h, id, result, ...)                                                   \
    evlog_emit(sim_device_events((h)->dev), sim_device_now((h)->dev), EVLOG_ACTOR_AMT,   \
               sim_device_uuid_text((h)->dev), (id), (result), __VA_ARGS__)

static void
reply_roots(struct sim_heci *h, char *reply, size_t size)
{
    const struct sim_device_config *cfg = sim_device_config(h->dev);
    size_t used = (size_t)snprintf(reply, size, "OK");

    for (size_t i = 0; i < cfg->n_roots; i++) {
        char tp[AMT_THUMBPRINT_TEXT_MAX];

        if (thumbprint_format(&cfg->roots[i], tp, sizeof(tp)) != 0 ||
            used + 1 + strlen(tp) >= size) {
            snprintf(reply, size, "ERR 1 too-many-roots");
            return;
        }
        used += (size_t)snprintf(reply + used, size - used, " %s", tp);
    }
}

static void
handle_line(void *arg, char *line, char *reply, size_t size)
{
    struct sim_heci *h = arg;
    struct sim_device *dev = h->dev;
    char *param = strchr(line, ' ');

    if (param != NULL)
        *param++ = '\0';
    if (strcmp(line, "GET-VERSION") == 0 && param == NULL) {
        snprintf(reply, size, "OK %s", sim_device_profile(dev)->text);
    } else if (strcmp(line, "GET-UUID") == 0 && param == NULL) {
        snprintf(reply, size, "OK %s", sim_device_uuid_text(dev));
    } else if (strcmp(line, "GET-STATE") == 0 && param == NULL) {
        snprintf(reply, size, "OK %s", sim_state_name(sim_device_state(dev)));
    } else if (strcmp(line, "GET-ROOT-HASHES") == 0 && param == NULL) {
        reply_roots(h, reply, size);
    } else if (strcmp(line, "SET-OTP") == 0 && param != NULL) {
        /* the device logs its own verdict (IB-2 ok or fail) */
        bool provisioned = sim_device_state(dev) == SIM_STATE_PROVISIONED;
        int r = sim_device_set_otp(dev, param);

        OPENSSL_cleanse(param, strlen(param));
        if (provisioned)
            snprintf(reply, size, "ERR %d already-provisioned",
                     STATUS_INVALID_PROVISIONING_STATE);
        else if (r != 0)
            snprintf(reply, size, "ERR %d invalid-otp", STATUS_INVALID_PARAMETER);
        else
            snprintf(reply, size, "OK");
    } else if (strcmp(line, "OPEN-NETWORK") == 0 && param == NULL) {
        HECI_EVENT(h, "IB-2", EVLOG_RESULT_OK,
                   EVLOG_STR("what", "network-interface-open"));
        snprintf(reply, size, "OK");
    } else {
        HECI_EVENT(h, "X-sim.heci", EVLOG_RESULT_FAIL, EVLOG_REASON("unknown-command"),
                   EVLOG_HEX("command", line, strlen(line) > 32 ? 32 : strlen(line)));
        snprintf(reply, size, "ERR %d unknown-command", STATUS_INVALID_PARAMETER);
    }
}

int
sim_heci_new(struct amt_loop *loop, struct sim_device *dev, const char *path,
             struct sim_heci **out, char *errbuf, size_t errlen)
{
    struct sim_linesrv_options o = {
        .path = path,
        .max_clients = HECI_CLIENTS_MAX,
        .bad_status = STATUS_INVALID_PARAMETER,
        .handler = handle_line,
    };
    struct sim_heci *h;
    int r;

    if (out != NULL)
        *out = NULL;
    if (loop == NULL || dev == NULL || path == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((h = calloc(1, sizeof(*h))) == NULL)
        return AMT_ERR_ALLOC;
    h->dev = dev;
    o.arg = h;
    if ((r = sim_linesrv_new(loop, &o, &h->srv, errbuf, errlen)) != 0) {
        free(h);
        return r;
    }
    *out = h;
    return 0;
}

void
sim_heci_free(struct sim_heci *h)
{
    if (h == NULL)
        return;
    sim_linesrv_free(h->srv);
    free(h);
}
