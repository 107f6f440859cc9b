/*
 * amt-sim's settings: one table serves the --config INI file and the command-line
 * options (options win), and turns them into one device configuration per
 * simulated device of the fleet.
 */
#ifndef AMT_SIM_OPTIONS_H
#define AMT_SIM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "device.h"
#include "hello_schedule.h"
#include "settings.h"

#define SIM_DEVICES_MAX 5000

struct sim_options {
    char *listen; /* first device's IPv4 address; the next ones count up */
    char *uuid;   /* first device's UUID; the next ones count up */
    char *amt_version;
    char *domain; /* DHCP option 15 */
    struct settings_list root_hash;
    char *provision_server;
    char *flash; /* folder; each device of a fleet gets flash/<uuid> */
    char *events;
    double time_scale;
    int devices;
    char *heci; /* socket path; a fleet gets <heci>.<n> */
    int state;  /* 0 factory, 1 provisioned */
    char *admin_password;
    bool tls;
    char *hosts;
    char *hello_schedule;
    char *control;   /* the control socket's path */
    char *key_cache; /* folder of ready-made device keys */
    int sol;         /* 0 keep what the flash says, 1 on, 2 off */
    int ider;
    int lockout_failures;
    double lockout_seconds;
};

extern const struct settings_row sim_option_rows[];

/* Derived values, checked: what every device of the fleet shares. */
struct sim_fleet_plan {
    struct sim_profile profile;
    struct hello_schedule schedule;
    struct amt_thumbprint roots[SIM_ROOTS_MAX];
    size_t n_roots;
    struct amt_uuid first_uuid;
    unsigned first_addr; /* host order */
};

/* Checks the options together; a message naming the setting on failure. */
int sim_options_plan(const struct sim_options *o, struct sim_fleet_plan *plan, char *err,
                     size_t errlen);

/*
 * Fills the configuration of device i of the fleet. Strings it points to live in
 * bufs (flash and socket paths), which the caller keeps with the config.
 */
struct sim_device_strings {
    char flash_dir[512];
    char heci_path[512];
};
int sim_options_device(const struct sim_options *o, const struct sim_fleet_plan *plan,
                       unsigned i, struct sim_device_config *cfg,
                       struct sim_device_strings *strings);

#endif
