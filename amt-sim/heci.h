/*
 * The host interface (HECI) of a simulated device: a Unix socket at --heci PATH
 * stands for the HECI driver of the managed computer's OS. No socket = no driver,
 * which the in-band agent must notice (HECI-DRIVER, IB-1).
 *
 * Protocol: one request per line (ASCII, at most HECI_LINE_MAX bytes with its LF),
 * one reply line each: "OK[ <value>]" or "ERR <status> <reason>", where status is
 * the AMT status code in decimal (0x20 = 32 invalid provisioning state, 0x24 = 36
 * invalid parameter) and reason a kebab-case word.
 *
 *   GET-VERSION        OK 4.0.0
 *   GET-UUID           OK 4c4c4544-0043-3010-8052-b4c04f564433
 *   GET-STATE          OK setup | in-provisioning | provisioned
 *   GET-ROOT-HASHES    OK sha1:<hex> sha256:<hex> ...   (the firmware's roots)
 *   SET-OTP <otp>      OK | ERR 32 already-provisioned | ERR 36 invalid-otp
 *                      (CFG_SetProvisioningServerOTP: 8 to 32 printable characters)
 *   OPEN-NETWORK       OK   (IB-2: the agent readies AMT's network interface)
 *   anything else      ERR 36 unknown-command
 */
#ifndef AMT_SIM_HECI_H
#define AMT_SIM_HECI_H

#include "device.h"
#include "linesrv.h"
#include "loop.h"

#define HECI_LINE_MAX LINESRV_LINE_MAX
#define HECI_CLIENTS_MAX 4

struct sim_heci;

/*
 * Listens at path (mode 0600). A stale socket file left by an earlier run is
 * replaced; any other file at path is an error, never removed.
 */
int sim_heci_new(struct amt_loop *loop, struct sim_device *dev, const char *path,
                 struct sim_heci **out, char *errbuf, size_t errlen);
/* Closes the socket and removes its file. */
void sim_heci_free(struct sim_heci *h);

#endif
