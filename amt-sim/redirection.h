/*
 * AMT redirection: the binary protocol of Serial over LAN and IDE-R on 16994 (plain)
 * and 16995 (TLS, catalogue PORT-16995). net.c accepts the connections and judges the
 * port rules; this module takes each accepted socket or established TLS session and
 * speaks the protocol on the one event loop, non-blocking, with a simulated host behind
 * the serial port: a banner, then every line typed is echoed back (SOL-TELNET).
 *
 * Messages (integers little-endian, "0" bytes reserved and sent as zero; seq is a
 * u32 sequence number, echoed in the replies that answer a request):
 *
 *   cmd  from    name and layout                                               bytes
 *   ---  ------  ------------------------------------------------------------  -----
 *   10   client  StartRedirectionSession: 0 0 0, type[4] "SOL " | "IDER"           8
 *   11   device  StartRedirectionSessionReply: status, 0 0, protocol 1 0,         13
 *                firmware major minor, IANA u32 343, OEM length 0
 *   12   client  EndRedirectionSession: 0 0 0                                      4
 *   13   client  AuthenticateSession: 0 0 0, method, length u32, data       9 + len
 *   14   device  AuthenticateSessionReply: status, 0 0, method, length u32,  9 + len
 *                data
 *   20   client  StartSOL: 0 0 0, seq, max-tx-buffer u16, tx-buffer-timeout,      24
 *                tx-overflow-timeout, host-session-rx-timeout,
 *                host-fifo-rx-flush-timeout, heartbeat-interval (u16 each, ms),
 *                0[4]
 *   21   device  StartSOLReply: status, 0 0, the six u16 of the request as        23
 *                granted, max-rx-buffer u16 (data per 28), 0 0 0 0, OEM length 0
 *   22   client  EndSOL: 0 0 0, seq                                                8
 *   23   device  EndSOLReply: 0 0 0, seq                                           8
 *   24   client  SOL keep-alive ping: 0 0 0, seq (answered by 25, same layout)     8
 *   27   client  SOL controls to host: 0 0 0, seq, 6 bytes (ignored)               14
 *   28   client  SOL data to host (keystrokes): 0 0 0, seq, length u16, data 10 + len
 *                (after 22 they are dropped: amtterm sends the one that held
 *                its escape)
 *   29   device  SOL controls from host: 0 0 0, seq, control, status (bit 2:      10
 *                the host is powered on)
 *   2A   device  SOL data from host (console output): as 28                10 + len
 *   2B   both    heartbeat: 0 0 0, seq                                             8
 *   40   client  StartIDER: 0 0 0, seq, rx-timeout, tx-timeout, heartbeat       18
 *                (u16, ms), version u32
 *   41   device  StartIDERReply: status, 0 0, seq, rx-timeout, tx-timeout,        30
 *                heartbeat, 0 0, tx-buffer u16, rx-buffer u16, 0, features,
 *                0 0 0, IANA u32 343, OEM length 0
 *   42   client  EndIDER: 0 0 0, seq (answered by 43, same layout)                 8
 *   44   client  IDE-R keep-alive ping (answered by 45, same layout)               8
 *   47   client  IDE-R reset-occurred response                                     8
 *   48   client  IDE-R disable/enable features: 0 0 0, seq, subcommand,           13
 *                value u32 (answered by 49, same layout, value as set)
 *   4B   both    IDE-R heartbeat                                                   8
 *   51   client  IDE-R command-end response                                       31
 *   52   client  IDE-R get-data-from-host                                         31
 *
 * Authentication methods (13/14): 0 query: 14 lists the methods taken, 1 and 4;
 * 1 user name and password in clear: data = length u8, user, length u8, password;
 * 4 digest: data = eight length-prefixed strings user, realm, nonce, uri, cnonce,
 * nc, response, qop. A first 4 with realm, nonce and response empty asks for the
 * challenge: 14 with status 1 (failure) carries realm, nonce and qop "auth", each
 * length-prefixed; the next 4 answers it with
 * response = MD5(hex HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" hex MD5("POST:" uri)).
 * The nonce serves one answer, on its own connection. Methods 2 (Kerberos) and 3
 * (digest without qop) get status 2, not supported.
 *
 * Status of 11: 0 success, 1 unknown session type, 2 busy (the device already has a
 * session of that type: one SOL and one IDE-R at a time, as AMT), 3 unsupported (the
 * type is known but its switch, SIM_SWITCH_SOL or SIM_SWITCH_IDER, is off; KVM is
 * always unsupported here). Status of 14: 0 success, 1 failure, 2 unsupported method.
 * A refused start closes the connection once its reply is out.
 *
 * Of 21, amtterm reads only the status; of 41, amtterm's IDE-R client reads the
 * status, the buffer sizes (bytes 16 and 18) and the IANA number (byte 25). The rest
 * of both layouts is this simulator's choice.
 *
 * amtterm 1.4 takes each 14, 21, 23, 29, 41, 43 and 49 it reads as the whole of what
 * that read returned. Each of these goes out in a write of its own, and nothing follows
 * it for reply_gap real seconds, so that a client reading on loopback sees it alone. The
 * console's first output thus comes after 21 and 29 with a gap each.
 *
 * The simulated host: at SOL start the device sends 29 with the power state, then a
 * banner and the prompt "sol> " when the managed computer is on. Keystrokes are
 * echoed as a terminal does (backspace erases, Enter ends the line) and each line is
 * answered with "you typed: <line>". When the computer is off nothing reads the
 * serial port: keystrokes are counted and dropped and there is no output; a change
 * of power is seen within a virtual second, told with 29, and a power-on boots to a
 * new banner.
 *
 * Timeouts, in virtual seconds: a connection that sends nothing for idle_timeout is
 * closed; once SOL or IDE-R runs, the client's host-session-rx-timeout (at least one
 * second) replaces it, as AMT does. The device sends heartbeats (2B, 4B) at the
 * interval the client asked for (none when it asked for 0); amtterm answers them.
 *
 * Caps: a message is at most 2058 bytes (keystroke data 2048, authentication data
 * 512); user names 16 bytes, passwords 32; digest realm 54, nonce 64, uri 128, cnonce
 * 64, nc 16, response 32, qop 16; a line of the host is 255 bytes; output queued for a
 * client that does not read is at most 64 KiB. Anything malformed closes the connection
 * with an event.
 *
 * Events (actor AMT, the device's log; every detail has port and peer; never a
 * password, never the keystrokes themselves):
 *   PORT-16995 (TLS) or X-sim.redirection (plain): session start, ok with detail
 *       session sol|ider and tls; fail with reason unknown-session-type,
 *       sol-disabled, ider-disabled, kvm-unsupported, busy (and the type as hex)
 *   X-sim.redirection.auth: ok (user, method password|digest); fail with reason
 *       wrong-password, unknown-user, no-right, locked-out, unsupported-method,
 *       wrong-realm, stale-nonce, empty-response, prefix-response (counted says
 *       whether it moved the device towards lockout); info for a query or a digest
 *       challenge
 *   X-sim.redirection.sol-start (ok: power, max-tx-buffer, heartbeat-ms,
 *       rx-timeout-ms), X-sim.redirection.sol-stop (info: cause, keystroke-bytes),
 *   X-sim.redirection.keystrokes (info: bytes of one 28, the total, host-on),
 *   X-sim.redirection.host-power (info: what a 29 told after a change),
 *   X-sim.redirection.ider-start (ok), X-sim.redirection.ider-stop (info),
 *   X-sim.redirection.ider-command (info: command byte and length of each IDE-R
 *       message the client sends),
 *   X-sim.redirection.end (session, ms, bytes-in, bytes-out; command when a message
 *       ended it): ok with cause end-session; info with cause peer-closed,
 *       start-refused, auth-refused, device-removed, shutdown; fail with reason (and
 *       cause) idle-timeout, unknown-command, unexpected-command, message-too-long,
 *       malformed-auth, user-too-long, password-too-long, field-too-long,
 *       output-overflow, out-of-memory, io-error, too-many-sessions.
 */
#ifndef AMT_SIM_REDIRECTION_H
#define AMT_SIM_REDIRECTION_H

#include <stddef.h>

#include "device.h"
#include "loop.h"
#include "net.h"

struct sim_redir_options {
    /* virtual seconds a connection may stay silent before SOL or IDE-R runs */
    double idle_timeout;
    /* real seconds kept free after a reply that must be read alone */
    double reply_gap;
    /* connections one device serves at once; more are reset */
    unsigned max_sessions;
};

/* 60 s idle, a 0.1 s gap, 8 sessions per device. */
void sim_redir_options_default(struct sim_redir_options *o);

struct sim_redir;

/*
 * Registers with net (sim_net_set_redirection) for 16994 and 16995; options NULL =
 * the defaults. The net must outlive the module.
 */
int sim_redir_new(struct amt_loop *loop, struct sim_net *net,
                  const struct sim_redir_options *options, struct sim_redir **out);
/* Ends every session (cause shutdown) and unregisters; call it before the devices
 * are freed. NULL is fine. */
void sim_redir_free(struct sim_redir *rd);

/* Ends the device's sessions (cause device-removed); call it before the device is
 * freed when it goes while the module stays. */
void sim_redir_remove_device(struct sim_redir *rd, const struct sim_device *dev);

/* Connections the module holds for the device, for tests. */
size_t sim_redir_sessions(const struct sim_redir *rd, const struct sim_device *dev);

#endif
