#include "realms.h"

#include "device.h"
#include "err.h"

/*
 * Realms of features the simulator has no service for are accepted and grant
 * nothing. NetworkTime is the only service behind SIM_RIGHT_NETWORK;
 * NetworkAdministration belongs to the PT administration realm, as in AMT.
 */
static const struct {
    uint32_t realm;
    unsigned right;
} realm_rights[] = {
    {2, SIM_RIGHT_REDIRECTION},    /* Redirection */
    {3, SIM_RIGHT_ADMIN},          /* PT Administration */
    {4, SIM_RIGHT_GENERAL_INFO},   /* Hardware Asset */
    {5, SIM_RIGHT_REMOTE_CONTROL}, /* Remote Control */
    {6, 0},                        /* Storage */
    {7, SIM_RIGHT_EVENT_LOG},      /* Event Manager */
    {8, 0},                        /* Storage Admin */
    {9, 0},                        /* Agent Presence Local */
    {10, 0},                       /* Agent Presence Remote */
    {11, 0},                       /* Circuit Breaker */
    {12, SIM_RIGHT_NETWORK},       /* Network Time */
    {13, SIM_RIGHT_GENERAL_INFO},  /* General Information */
    {14, 0},                       /* Firmware Update */
    {15, 0},                       /* EIT */
    {16, 0},                       /* Local UN */
    {17, 0},                       /* Endpoint Access Control */
    {18, 0},                       /* Endpoint Access Control Admin */
    {19, SIM_RIGHT_EVENT_LOG},     /* Event Log Reader */
    {20, SIM_RIGHT_EVENT_LOG},     /* Audit Log */
    {21, 0},                       /* ACL Realm */
};

#define N_ROWS (sizeof(realm_rights) / sizeof(realm_rights[0]))

int
sim_realm_right(uint32_t realm, unsigned *right)
{
    for (size_t i = 0; i < N_ROWS; i++) {
        if (realm_rights[i].realm == realm) {
            *right = realm_rights[i].right;
            return 0;
        }
    }
    return AMT_ERR_INVALID_ARGUMENT;
}

size_t
sim_rights_to_realms(unsigned rights, uint32_t *realms, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < N_ROWS && n < max; i++)
        if (realm_rights[i].right != 0 && (rights & realm_rights[i].right) != 0)
            realms[n++] = realm_rights[i].realm;
    return n;
}
