/*
 * The hellos a device in setup sends to ProvisionServer on TCP 9971 (catalogue
 * OOB-1, PORT-9971), on the schedule of lib/hello_schedule.h in the loop's virtual
 * time, from the device's boot. Each hello is a fresh connection: connect, write,
 * close. A server that is down, refuses or cannot be resolved is an ordinary retry.
 * Sending stops when the device is provisioned or the window ends, and starts over
 * (a new window) when the device returns to setup.
 */
#ifndef AMT_SIM_HELLO_SENDER_H
#define AMT_SIM_HELLO_SENDER_H

#include <stdbool.h>

#include "device.h"
#include "hello_schedule.h"
#include "loop.h"

#define HELLO_SERVER_PORT 9971
/* A connect or write that takes longer (virtual seconds) counts as failed. */
#define HELLO_SEND_TIMEOUT 30.0

struct sim_hello_sender;

/* schedule NULL = the catalogue's. The sender registers for the device's state. */
int sim_hello_sender_new(struct amt_loop *loop, struct sim_device *dev,
                         const struct hello_schedule *schedule,
                         struct sim_hello_sender **out);
void sim_hello_sender_free(struct sim_hello_sender *s);

/* Starts a new window now (boot, or return to setup); no-op when provisioned. */
int sim_hello_sender_start(struct sim_hello_sender *s);
void sim_hello_sender_stop(struct sim_hello_sender *s);

/* Fault injection: advertise root hashes with one bit flipped (none will match). */
void sim_hello_sender_set_wrong_roots(struct sim_hello_sender *s, bool on);

/* How many hellos were written completely since the process started. */
unsigned sim_hello_sender_sent(const struct sim_hello_sender *s);

/*
 * Where the hello goes, by AMT's order: the address configured in MEBx
 * (provision_server, HOST[:PORT]); else ProvisionServer.<configured domain>; else
 * ProvisionServer.<DHCP option 15 suffix>; else ProvisionServer. Writes the host
 * and the port.
 */
int sim_hello_target(const struct sim_device *dev, char *host, size_t size,
                     unsigned *port);

#endif
