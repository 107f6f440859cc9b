/*
 * The contract between the HTTP front (http.c: listeners, TLS, digest) and the
 * services behind it (soap_services.c for the phase 1 SOAP interface,
 * wsman_services.c for WS-Management at /wsman). The front has already
 * authenticated the request when a handler sees it; a handler never blocks, and
 * answers every request, malformed or not, with an HTTP status and a body.
 */
#ifndef AMT_SIM_SERVICES_H
#define AMT_SIM_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "device.h"

/* Request bodies above this are refused by the front with 413 before any parsing. */
#define SIM_BODY_MAX (256 * 1024)

struct sim_request {
    struct sim_device *dev;
    const char *method;      /* "POST", "GET" */
    const char *path;        /* "/SecurityAdministrationService", "/wsman" */
    const char *soap_action; /* the SOAPAction header without quotes, or NULL */
    const char *content_type;
    const char *body; /* NUL-terminated; body_len excludes the NUL */
    size_t body_len;
    const char *user; /* the authenticated digest user */
    unsigned rights;  /* enum sim_right bits of that user */
    unsigned port;    /* 16992 or 16993 */
    bool tls;
    /* set by the front when the session is the one provisioning the device
     * (16993 in setup or in-provisioning state, client chain accepted) */
    bool provisioning_session;
};

struct sim_response {
    int status;               /* HTTP status */
    const char *content_type; /* static string */
    char *body;               /* malloc'd; the front frees it */
    size_t body_len;
};

/*
 * Each returns 0 with *resp filled, or an error code when no answer could be made
 * at all (out of memory); the front then answers 500. A SOAP or WS-Management
 * fault is an answer (status 400 or 500 with the fault body), not an error.
 */
int sim_soap_handle(const struct sim_request *req, struct sim_response *resp);
int sim_wsman_handle(const struct sim_request *req, struct sim_response *resp);

/*
 * Drops the enumeration contexts of dev: after an unprovision, and by whoever frees
 * a device (a new one could be made at the same address). sim_wsman_forget_all drops
 * every context (at exit).
 */
void sim_wsman_forget_device(const struct sim_device *dev);
void sim_wsman_forget_all(void);

/* True when path names one of the SOAP services (".../<Name>Service"). */
bool sim_soap_path(const char *path);

#endif
