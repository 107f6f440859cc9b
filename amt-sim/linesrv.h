/*
 * A line-oriented service on a Unix socket, on the loop: one request per line, one
 * reply line each. The host interface (heci.c) and the control socket (control.c)
 * both speak this way.
 */
#ifndef AMT_SIM_LINESRV_H
#define AMT_SIM_LINESRV_H

#include <stddef.h>

#include "loop.h"

#define LINESRV_LINE_MAX 256
#define LINESRV_REPLY_MAX 1024

struct sim_linesrv;

/*
 * Answers one request. line is NUL-terminated without its LF (or CRLF); the handler
 * writes one reply line (without LF) into reply. A line holding a NUL byte, or one
 * longer than LINESRV_LINE_MAX, never reaches it: the client gets "ERR <bad_status>
 * nul-byte" or "... line-too-long" (and, for the latter, is closed). The handler may
 * write into line (to wipe a secret in it).
 */
typedef void (*sim_linesrv_fn)(void *arg, char *line, char *reply, size_t size);

struct sim_linesrv_options {
    const char *path;
    unsigned max_clients; /* one more is told "ERR 1 busy" and closed */
    int bad_status;       /* the status number in the refusals above */
    sim_linesrv_fn handler;
    void *arg;
};

/*
 * Listens at path (mode 0600). A stale socket file left by an earlier run is
 * replaced; any other file at path is an error, never removed.
 */
int sim_linesrv_new(struct amt_loop *loop, const struct sim_linesrv_options *o,
                    struct sim_linesrv **out, char *errbuf, size_t errlen);
/* Closes the socket and removes its file. */
void sim_linesrv_free(struct sim_linesrv *s);

#endif
