/*
 * What the WS-Management service's parts share: the request being answered, the
 * class descriptors each wsman_*.c file defines, and helpers to read input
 * properties, write instances and keep phase 2 data in the flash.
 *
 * A class is a table row (struct ws_class): which version feature it needs, which
 * rights read and change it, how to list and render its instances, and its Put,
 * Delete and methods. wsman_services.c does everything that is the same for every
 * class (parsing, faults, rights, the provisioning state rule, selectors,
 * enumeration contexts, the X-sim.wsman event), so a class file only says what is
 * particular to its class.
 */
#ifndef AMT_SIM_WSMAN_CLASSES_H
#define AMT_SIM_WSMAN_CLASSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "device.h"
#include "err.h"
#include "evlog.h"
#include "services.h"
#include "wsman.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* AMT's PT_STATUS values, as ReturnValue carries them (AMT Network Design Guide). */
enum {
    PT_SUCCESS = 0,
    PT_INTERNAL_ERROR = 0x1,
    PT_INVALID_PT_MODE = 0x3,
    PT_INVALID_NAME = 0xC,
    PT_NOT_PERMITTED = 0x10,
    PT_MAX_LIMIT_REACHED = 0x17,
    PT_INVALID_INDEX = 0x23,
    PT_INVALID_PARAMETER = 0x24,
    PT_INVALID_HANDLE = 0x805,
    PT_INVALID_PASSWORD = 0x806,
    PT_INVALID_REALM = 0x807,
    PT_DATA_MISSING = 0x809,
    PT_DUPLICATE = 0x80A,
    PT_INVALID_CERT = 0x80F,
    PT_UNSUPPORTED = 0x812,
};

/* CIM's ReturnValue for RequestStateChange and RequestPowerStateChange. */
enum {
    CIM_RV_OK = 0,
    CIM_RV_NOT_SUPPORTED = 1,
    CIM_RV_UNKNOWN_ERROR = 2,
    CIM_RV_FAILED = 4,
    CIM_RV_INVALID_PARAMETER = 5,
};

#define WS_ID_MAX 64         /* a class's own handle of an instance */
#define WS_KEY_VALUE_MAX 128 /* a key property's value */
#define WS_KEYS_MAX 4
#define WS_INSTANCES_MAX 48 /* instances one class lists at most */
#define WS_PROPS_MAX 48     /* properties one instance renders at most */
#define WS_REASON_MAX 256

/* The "system" every AMT service belongs to, as its keys name it. */
#define WS_SYSTEM_CLASS "CIM_ComputerSystem"
#define WS_SYSTEM_NAME "Intel(r) AMT"

struct ws_key {
    const char *name;
    char value[WS_KEY_VALUE_MAX];
};

/* One instance: the class's handle for it and the key properties selectors match. */
struct ws_inst {
    char id[WS_ID_MAX];
    struct ws_key keys[WS_KEYS_MAX];
    size_t n_keys;
};

/* The request being answered, and the answer as it is built. */
struct ws_req {
    const struct sim_request *req;
    struct sim_device *dev;
    const struct wsman_call *call;
    const struct ws_class *cls;
    bool is_delete;
    struct wsman_msg *reply;
    /* a fault to answer instead (WSMAN_FAULT_NONE: none) */
    enum wsman_fault fault;
    char fault_reason[WS_REASON_MAX];
    const char *fault_detail;
    /* what the X-sim.wsman event says: a kebab-case reason when it failed */
    const char *why;
    bool invoked;
    uint32_t return_value;
};

/*
 * Where an instance's properties go: a reply (m set; parent NULL = its payload) or,
 * with m NULL, only a list of their names (what a Put may carry). The first error
 * sticks in err, so that a renderer can write its properties one after another and
 * return o->err once.
 */
struct ws_out {
    struct wsman_msg *m;
    xmlNodePtr parent;
    const char *names[WS_PROPS_MAX];
    size_t n_names;
    int err;
};

/* A method works on the one instance the selectors name (none: a singleton's). */
struct ws_method {
    const char *name;
    bool changes; /* needs the class's write rights and passes the state rule */
    int (*fn)(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr input);
};

/* One parameter an _INPUT or a Put instance may carry; multi: may repeat. */
struct ws_param {
    const char *name;
    bool multi;
};

struct ws_class {
    const char *name;
    /* the version capability it needs (SIM_FEATURE_WSMAN: any WS-Man version) and the
     * catalogue ID that a device without it reports */
    enum sim_feature feature;
    const char *unsupported_id;
    /* any of these rights (SIM_RIGHT_ADMIN always does) */
    unsigned read_rights, write_rights;
    int (*list)(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n);
    int (*render)(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o);
    bool enumerable;
    bool gettable;
    int (*put)(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr body);
    /* properties a Put may carry that a Get never shows (secrets, EPR inputs), and
     * those that may repeat (arrays); both lists end with NULL */
    const char *const *write_only;
    const char *const *multi;
    int (*del)(struct ws_req *w, const struct ws_inst *inst);
    const struct ws_method *methods;
    size_t n_methods;
};

/* The classes, one descriptor each (wsman_settings.c, wsman_acl.c, wsman_network.c). */
extern const struct ws_class ws_general_settings;
extern const struct ws_class ws_redirection_service;
extern const struct ws_class ws_web_ui_service;
extern const struct ws_class ws_kerberos_setting_data;
extern const struct ws_class ws_system_power_scheme;
extern const struct ws_class ws_element_setting_data;
extern const struct ws_class ws_tls_setting_data;
extern const struct ws_class ws_time_synchronization_service;
extern const struct ws_class ws_setup_and_configuration_service;
extern const struct ws_class ws_power_management_service;
extern const struct ws_class ws_associated_power_management_service;
extern const struct ws_class ws_audit_log;
extern const struct ws_class ws_authorization_service;
extern const struct ws_class ws_wifi_port_configuration_service;
extern const struct ws_class ws_wifi_endpoint_settings;
extern const struct ws_class ws_8021x_profile;
extern const struct ws_class ws_public_key_management_service;
extern const struct ws_class ws_public_key_certificate;

/* --- answering --- */

/*
 * Makes the request end in fault f; reason is the fault's Reason text, why the
 * kebab-case word of the X-sim.wsman event. Returns AMT_ERR_SOAP_FAULT, so that
 * a handler can `return ws_fault(...)` or `r = ws_fault(...); goto out;`.
 */
int ws_fault(struct ws_req *w, enum wsman_fault f, const char *why, const char *fmt, ...)
    AMT_PRINTF(4, 5);
/* The body does not fit: wsman:SchemaValidationError. */
int ws_schema(struct ws_req *w, const char *fmt, ...) AMT_PRINTF(2, 3);

/*
 * Starts the <Method>_OUTPUT reply with ReturnValue rv; why says in the event why a
 * non-zero value was returned. Output parameters then go through ws_out_reply().
 */
int ws_return(struct ws_req *w, uint32_t rv, const char *why);
/* An output over the reply's payload (the instance or the _OUTPUT). */
void ws_out_reply(struct ws_req *w, struct ws_out *o);

/* --- writing instances --- */

void ws_prop(struct ws_out *o, const char *name, const char *value);
void ws_propf(struct ws_out *o, const char *name, const char *fmt, ...) AMT_PRINTF(3, 4);
void ws_prop_bool(struct ws_out *o, const char *name, bool value);
void ws_prop_u32(struct ws_out *o, const char *name, uint32_t value);
/* The key properties of inst, in order. */
void ws_prop_keys(struct ws_out *o, const struct ws_inst *inst);
/*
 * An endpoint reference to an instance of class_name, as AMT writes one:
 * <name><a:Address>..anonymous</a:Address><a:ReferenceParameters>
 *   <w:ResourceURI>..</w:ResourceURI><w:SelectorSet><w:Selector Name="..">..
 */
void ws_prop_epr(struct ws_out *o, const char *name, const char *class_name,
                 const struct ws_key *keys, size_t n_keys);

/* Fills inst with the four keys of an AMT service (CreationClassName, Name, ...). */
void ws_service_inst(struct ws_inst *inst, const char *class_name, const char *name);
/* Adds a key; the value is cut to fit (keys are made by the classes themselves). */
void ws_inst_key(struct ws_inst *inst, const char *name, const char *fmt, ...)
    AMT_PRINTF(3, 4);

/* --- reading input --- */

/* The first child element with this local name, in any namespace. */
xmlNodePtr ws_child(const xmlNode *parent, const char *name);
/*
 * Checks that every child element of parent is one of params (in namespace ns, or
 * any namespace if ns is NULL) and that none but the multi ones repeats; a
 * SchemaValidationError fault otherwise.
 */
int ws_check_params(struct ws_req *w, const xmlNode *parent, const char *ns,
                    const struct ws_param *params, size_t n_params);
/*
 * The text of the child called name (*present false and 0 when there is none).
 * Too long, or not of the form asked, is a SchemaValidationError fault.
 */
int ws_in_text(struct ws_req *w, const xmlNode *parent, const char *name, char *buf,
               size_t size, bool *present);
int ws_in_u32(struct ws_req *w, const xmlNode *parent, const char *name, uint32_t *out,
              bool *present);
int ws_in_bool(struct ws_req *w, const xmlNode *parent, const char *name, bool *out,
               bool *present);
/* A required parameter that is absent: SchemaValidationError. */
int ws_missing(struct ws_req *w, const char *name);
/*
 * Reads an endpoint reference parameter: its ResourceURI must be class_name's and
 * its selector called selector is copied into buf. AMT_ERR_NOT_FOUND (no fault) when
 * the reference does not have that form, so that the method can answer with its
 * own ReturnValue.
 */
int ws_epr_selector(const xmlNode *epr, const char *class_name, const char *selector,
                    char *buf, size_t size);
/* Overwrites the text of node's text children: a secret read from the request. */
void ws_wipe_text(xmlNodePtr node);

/* Strict base64 (white space allowed between groups); at most max bytes out. */
int ws_base64_decode(const char *in, unsigned char **out, size_t *out_len, size_t max);
int ws_base64_encode(const unsigned char *in, size_t len, char **out);

/* --- phase 2 data in the flash --- */

/* Writes "p2." and the formatted rest into buf: a key of the phase 2 namespace. */
int ws_p2_key(char *buf, size_t size, const char *fmt, ...) AMT_PRINTF(3, 4);
/* The value of p2.<name>, or NULL; the number in it, or dflt when absent or bad. */
const char *ws_p2_get(struct ws_req *w, const char *name);
unsigned long ws_p2_u(struct ws_req *w, const char *name, unsigned long dflt);
/* Sets (value NULL: removes) p2.<name> in memory; ws_p2_commit writes. */
int ws_p2_set(struct ws_req *w, const char *name, const char *value);
int ws_p2_set_u(struct ws_req *w, const char *name, unsigned long value);
/* Commits the flash; on failure forgets the uncommitted changes. */
int ws_p2_commit(struct ws_req *w);

/* --- events --- */

/*
 * Logs a catalogue event of the device (actor AMT). Phase 2 steps of an in-band
 * session (one that began with an OTP) carry their IB-11 names, as device.c does.
 */
const char *ws_step_id(const struct sim_device *dev, const char *oob_id);
#define WS_EVENT(w, id, result, ...)                                                     \
    do {                                                                                 \
        const char *ws_id_ = ws_step_id((w)->dev, (id));                                 \
        int ws_r_ = evlog_emit(sim_device_events((w)->dev), sim_device_now((w)->dev),    \
                               EVLOG_ACTOR_AMT, sim_device_uuid_text((w)->dev), ws_id_,  \
                               (result), __VA_ARGS__);                                   \
        if (ws_r_ != 0)                                                                  \
            ws_event_refused(ws_id_, ws_r_);                                             \
    } while (0)
void ws_event_refused(const char *id, int r);

/* --- realms --- */

/*
 * The simulator rights that a list of AMT realm numbers grants. Unknown realm
 * numbers make it fail with AMT_ERR_INVALID_ARGUMENT; realms the simulator has no
 * right for grant nothing.
 */
int ws_realms_to_rights(const uint32_t *realms, size_t n, unsigned *rights);
/* The realm numbers that stand for rights, in ascending order; returns how many. */
size_t ws_rights_to_realms(unsigned rights, uint32_t *realms, size_t max);

#endif
