/*
 * The control socket (--control PATH): how a scenario runner acts on a running
 * simulator as the world would: a firewall in front of a port, a slow device, a
 * reboot, a firmware that advertises the wrong roots. One request a line, one reply
 * line: "OK[ value]" or "ERR 1 <reason>". DEV is a device's index in the fleet
 * (0 = the first) or its UUID.
 *
 *   DEVICES                               OK <count>
 *   STATE DEV                             OK setup | in-provisioning | provisioned
 *   TIME                                  OK <virtual seconds>
 *   FAULT DEV PORT 16992..16995 reject|drop|none
 *                                         the port refuses (RST), swallows, or works
 *   FAULT DEV DELAY SECONDS               every HTTP answer waits (0 ends it)
 *   FAULT DEV DROP-AFTER N                the connection is cut after N requests
 *   FAULT DEV RESET-NONCES                every outstanding nonce becomes stale
 *   FAULT DEV WRONG-ROOTS on|off          hellos carry altered root hashes
 *   REBOOT DEV                            volatile state lost, flash kept, hellos
 *                                         start a new window (if not provisioned)
 *   UNPROVISION DEV full|partial          as the local MEBx action does
 *   STOP                                  OK, then the simulator exits (status 0)
 */
#ifndef AMT_SIM_CONTROL_H
#define AMT_SIM_CONTROL_H

#include <stddef.h>

#include "device.h"
#include "hello_sender.h"
#include "loop.h"
#include "net.h"

struct sim_control_member {
    struct sim_device *dev;
    struct sim_hello_sender *hello;
};

struct sim_control;

/* members (n of them) and net stay the caller's and must outlive the control. */
int sim_control_new(struct amt_loop *loop, struct sim_net *net,
                    const struct sim_control_member *members, size_t n, const char *path,
                    struct sim_control **out, char *errbuf, size_t errlen);
void sim_control_free(struct sim_control *c);

#endif
