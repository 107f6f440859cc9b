/*
 * Whatever arrives at a simulated device's SOAP and WS-Management endpoints, the
 * services answer and never crash. One device, kept across inputs, in a temporary
 * flash folder; the first byte of each input picks the endpoint and the session
 * flags, the rest is the request body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "keypool.h"
#include "services.h"

static struct sim_device *dev;
static struct sim_device_config cfg;
static struct sim_env env;
static char flash_dir[] = "/tmp/fuzz_sim_services.XXXXXX";

static int
setup(void)
{
    char err[256];

    if (mkdtemp(flash_dir) == NULL)
        return -1;
    uuid_parse("4c4c4544-0043-3010-8052-b4c04f564433", &cfg.uuid);
    sim_profile_from_text("4.0", &cfg.profile);
    strcpy(cfg.listen, "127.0.0.2");
    cfg.flash_dir = flash_dir;
    cfg.dhcp_domain = "contoso.com";
    if (sim_device_open(&cfg, &env, &dev, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_sim_services: %s\n", err);
        return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const soap_paths[] = {
        "/SecurityAdministrationService", "/NetworkAdministrationService",
        "/RemoteControlService", "/NetworkTimeService", "/GeneralInfoService"};
    struct sim_request req;
    struct sim_response resp;
    char *body;
    uint8_t pick;

    if (dev == NULL && setup() != 0)
        abort();
    if (size == 0 || size > SIM_BODY_MAX)
        return 0;
    pick = data[0];
    if ((body = malloc(size)) == NULL)
        return 0;
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.dev = dev;
    req.method = "POST";
    req.body = body;
    req.body_len = size - 1;
    req.user = "admin";
    req.rights = SIM_RIGHT_ADMIN | SIM_RIGHT_REMOTE_CONTROL | SIM_RIGHT_REDIRECTION |
                 SIM_RIGHT_GENERAL_INFO | SIM_RIGHT_NETWORK | SIM_RIGHT_EVENT_LOG;
    req.port = 16993;
    req.tls = true;
    req.provisioning_session = (pick & 0x10) != 0;
    if (pick & 0x80) {
        req.path = "/wsman";
        req.content_type = "application/soap+xml";
        if (sim_wsman_handle(&req, &resp) == 0 &&
            (resp.status < 100 || resp.status > 599))
            abort();
    } else {
        req.path = soap_paths[pick % 5];
        req.content_type = "text/xml";
        if (sim_soap_handle(&req, &resp) == 0 && (resp.status < 100 || resp.status > 599))
            abort();
    }
    free(resp.body);
    free(body);
    return 0;
}
