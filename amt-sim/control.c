#include "control.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "evlog.h"
#include "linesrv.h"
#include "services.h"

#define CONTROL_CLIENTS_MAX 4
#define CONTROL_WORDS_MAX 6

struct sim_control {
    struct amt_loop *loop;
    struct sim_net *net;
    const struct sim_control_member *members;
    size_t n;
    struct sim_linesrv *srv;
};

static const struct sim_control_member *
find_member(const struct sim_control *c, const char *word)
{
    struct amt_uuid u;
    char *end;
    unsigned long i;

    if (uuid_parse(word, &u) == 0) {
        for (size_t k = 0; k < c->n; k++)
            if (uuid_equal(&sim_device_config(c->members[k].dev)->uuid, &u))
                return &c->members[k];
        return NULL;
    }
    errno = 0;
    i = strtoul(word, &end, 10);
    if (errno != 0 || *end != '\0' || end == word || i >= c->n)
        return NULL;
    return &c->members[i];
}

static int
parse_port(const char *word, enum sim_port *out)
{
    for (int p = 0; p < SIM_PORT_COUNT; p++) {
        char text[8];

        snprintf(text, sizeof(text), "%u", sim_port_number((enum sim_port)p));
        if (strcmp(word, text) == 0) {
            *out = (enum sim_port)p;
            return 0;
        }
    }
    return AMT_ERR_INVALID_ARGUMENT;
}

static int
parse_number(const char *word, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(word, &end);
    if (errno != 0 || *end != '\0' || end == word || !isfinite(v) || v < 0 || v > max)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = v;
    return 0;
}

static const char *
do_fault(struct sim_control *c, const struct sim_control_member *m, char **w, size_t n)
{
    double v;

    if (n == 5 && strcasecmp(w[2], "PORT") == 0) {
        enum sim_port port;
        enum sim_port_fault f;

        if (parse_port(w[3], &port) != 0)
            return "bad-port";
        if (strcmp(w[4], "reject") == 0)
            f = SIM_PORT_FAULT_REJECT;
        else if (strcmp(w[4], "drop") == 0)
            f = SIM_PORT_FAULT_DROP;
        else if (strcmp(w[4], "none") == 0)
            f = SIM_PORT_FAULT_NONE;
        else
            return "bad-port-fault";
        return sim_net_fault_port(c->net, m->dev, port, f) == 0 ? NULL : "fault-failed";
    }
    if (n == 4 && strcasecmp(w[2], "DELAY") == 0) {
        if (parse_number(w[3], 86400, &v) != 0)
            return "bad-seconds";
        return sim_net_fault_delay(c->net, m->dev, v) == 0 ? NULL : "fault-failed";
    }
    if (n == 4 && strcasecmp(w[2], "DROP-AFTER") == 0) {
        if (parse_number(w[3], 1e6, &v) != 0 || v != floor(v))
            return "bad-count";
        return sim_net_fault_drop_after(c->net, m->dev, (unsigned)v) == 0
                   ? NULL
                   : "fault-failed";
    }
    if (n == 3 && strcasecmp(w[2], "RESET-NONCES") == 0)
        return sim_net_fault_reset_nonces(c->net, m->dev) == 0 ? NULL : "fault-failed";
    if (n == 4 && strcasecmp(w[2], "WRONG-ROOTS") == 0) {
        if (strcmp(w[3], "on") != 0 && strcmp(w[3], "off") != 0)
            return "bad-switch";
        sim_hello_sender_set_wrong_roots(m->hello, strcmp(w[3], "on") == 0);
        return NULL;
    }
    return "unknown-fault";
}

static void
log_control(const struct sim_control_member *m, const char *command, const char *error)
{
    struct sim_device *dev = m->dev;

    if (error == NULL)
        evlog_emit(sim_device_events(dev), sim_device_now(dev), EVLOG_ACTOR_AMT,
                   sim_device_uuid_text(dev), "X-sim.control", EVLOG_RESULT_OK,
                   EVLOG_STR("command", command));
    else
        evlog_emit(sim_device_events(dev), sim_device_now(dev), EVLOG_ACTOR_AMT,
                   sim_device_uuid_text(dev), "X-sim.control", EVLOG_RESULT_FAIL,
                   EVLOG_REASON(error), EVLOG_STR("command", command));
}

/* Example input: "FAULT 0 PORT 16993 reject" */
static void
handle_line(void *arg, char *line, char *reply, size_t size)
{
    struct sim_control *c = arg;
    char *w[CONTROL_WORDS_MAX + 1], *save = NULL, command[LINESRV_LINE_MAX];
    const struct sim_control_member *m = NULL;
    const char *error = NULL;
    size_t n = 0;

    snprintf(command, sizeof(command), "%s", line);
    for (char *t = strtok_r(line, " \t", &save); t != NULL;
         t = strtok_r(NULL, " \t", &save)) {
        if (n == CONTROL_WORDS_MAX) {
            snprintf(reply, size, "ERR 1 too-many-words");
            return;
        }
        w[n++] = t;
    }
    if (n == 0) {
        snprintf(reply, size, "ERR 1 empty-command");
        return;
    }
    if (n == 1 && strcasecmp(w[0], "DEVICES") == 0) {
        snprintf(reply, size, "OK %zu", c->n);
        return;
    }
    if (n == 1 && strcasecmp(w[0], "TIME") == 0) {
        snprintf(reply, size, "OK %.3f", loop_now(c->loop));
        return;
    }
    if (n == 1 && strcasecmp(w[0], "STOP") == 0) {
        loop_stop(c->loop);
        snprintf(reply, size, "OK");
        return;
    }
    if (n < 2 || (m = find_member(c, w[1])) == NULL) {
        snprintf(reply, size, "ERR 1 %s", n < 2 ? "unknown-command" : "unknown-device");
        return;
    }
    if (n == 2 && strcasecmp(w[0], "STATE") == 0) {
        snprintf(reply, size, "OK %s", sim_state_name(sim_device_state(m->dev)));
        return;
    }
    if (strcasecmp(w[0], "FAULT") == 0 && n >= 3) {
        error = do_fault(c, m, w, n);
    } else if (n == 2 && strcasecmp(w[0], "REBOOT") == 0) {
        /* enumeration contexts live in the firmware's RAM */
        sim_wsman_forget_device(m->dev);
        if (sim_device_reboot(m->dev) != 0 || sim_hello_sender_start(m->hello) != 0)
            error = "reboot-failed";
    } else if (n == 3 && strcasecmp(w[0], "UNPROVISION") == 0) {
        if (strcmp(w[2], "full") != 0 && strcmp(w[2], "partial") != 0)
            error = "bad-mode";
        else if (sim_device_unprovision(m->dev, strcmp(w[2], "partial") == 0) != 0)
            error = "unprovision-failed";
    } else {
        error = "unknown-command";
    }
    log_control(m, command, error);
    if (error != NULL)
        snprintf(reply, size, "ERR 1 %s", error);
    else
        snprintf(reply, size, "OK");
}

int
sim_control_new(struct amt_loop *loop, struct sim_net *net,
                const struct sim_control_member *members, size_t n, const char *path,
                struct sim_control **out, char *errbuf, size_t errlen)
{
    struct sim_linesrv_options o = {
        .path = path,
        .max_clients = CONTROL_CLIENTS_MAX,
        .bad_status = 1,
        .handler = handle_line,
    };
    struct sim_control *c;
    int r;

    if (out != NULL)
        *out = NULL;
    if (loop == NULL || net == NULL || members == NULL || path == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMT_ERR_ALLOC;
    c->loop = loop;
    c->net = net;
    c->members = members;
    c->n = n;
    o.arg = c;
    if ((r = sim_linesrv_new(loop, &o, &c->srv, errbuf, errlen)) != 0) {
        free(c);
        return r;
    }
    *out = c;
    return 0;
}

void
sim_control_free(struct sim_control *c)
{
    if (c == NULL)
        return;
    sim_linesrv_free(c->srv);
    free(c);
}
