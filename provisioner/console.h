/*
 * Console operations on one device at a time (`amtprov discover`, `power`,
 * `unprovision`): what an administrator does to a single machine from a shell.
 *
 * Discovery asks without credentials: GET / on 16992, then on 16993 (TLS, any
 * certificate, since nothing secret is sent), and reads the Server header
 * ("Intel(R) Active Management Technology X.Y.Z") and the discovery page, which says
 * "not provisioned" for a device in setup. Power and unprovision go through an
 * amt_session on the caller's loop; a blocked port fails with its number in the
 * message (PORT-BLOCKED). Hosts are IPv4 (NET-IPV4).
 */
#ifndef AMT_PROV_CONSOLE_H
#define AMT_PROV_CONSOLE_H
#include <stdbool.h>
#include <stddef.h>

struct amt_client;
struct amt_loop;
struct curl_loop;

#define CONSOLE_VERSION_MAX 16

enum console_state {
    CONSOLE_NOT_AMT,
    CONSOLE_NOT_PROVISIONED,
    CONSOLE_PROVISIONED,
};

struct console_discovery {
    enum console_state state;
    char version[CONSOLE_VERSION_MAX]; /* "" unless AMT */
    unsigned port;                     /* the port that answered; 0 when none */
};

/* "not-amt", "not-provisioned", "provisioned". */
const char *console_state_name(enum console_state state);

/*
 * Discovers host, running loop until both probes ended. connect_http / connect_https: TCP
 * ports actually used (0: the AMT ports). timeout in real seconds per port. 0, or
 * AMT_ERR_NET_IPV6 for an IPv6 address, AMT_ERR_INVALID_ARGUMENT for anything that is no
 * IPv4 address.
 */
int console_discover(struct amt_loop *loop, struct curl_loop *cl, const char *host,
                     unsigned connect_http, unsigned connect_https, double timeout,
                     struct console_discovery *out);

enum console_power {
    CONSOLE_POWER_ON,
    CONSOLE_POWER_OFF,
    CONSOLE_POWER_RESET,
    CONSOLE_POWER_CYCLE,
};

/* "on", "off", "reset", "cycle"; parse gives AMT_ERR_INVALID_ARGUMENT otherwise. */
const char *console_power_name(enum console_power op);
int console_power_parse(const char *text, enum console_power *out);

struct console_target {
    const char *host;      /* IPv4 address */
    unsigned port;         /* 16993 (TLS) or 16992 */
    unsigned connect_port; /* 0: port */
    const char *user;
    const char *password;
    const char *ca_file;       /* TLS: trust this CA; NULL: pin on first use */
    const char *expected_host; /* with ca_file: the name the certificate carries;
                                  NULL: host */
    double timeout;            /* virtual seconds per call; 0: the client's default */
};

/*
 * Both run loop until the device answered. GetCoreVersion first, then for AMT 3 and
 * later WS-Management (CIM_PowerManagementService RequestPowerStateChange,
 * AMT_SetupAndConfigurationService Unprovision), and SOAP (RemoteControl,
 * SecurityAdministration Unprovision) for older. On failure err holds a sentence
 * naming the port when it was unreachable; never a password.
 */
int console_power(struct amt_loop *loop, struct amt_client *client,
                  const struct console_target *t, enum console_power op, char *err,
                  size_t errlen);
int console_unprovision(struct amt_loop *loop, struct amt_client *client,
                        const struct console_target *t, char *err, size_t errlen);
#endif
