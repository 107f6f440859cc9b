/*
 * AMT's access realms (UserAclRealmType) and the simulator's rights (enum
 * sim_right): one table for every service that adds or lists ACL entries.
 */
#ifndef AMT_SIM_REALMS_H
#define AMT_SIM_REALMS_H

#include <stddef.h>
#include <stdint.h>

/* The right realm grants (0 for realms of features the simulator lacks);
 * AMT_ERR_INVALID_ARGUMENT for a number that is no AMT realm. */
int sim_realm_right(uint32_t realm, unsigned *right);

/* The realms that together grant rights, at most max of them; how many. */
size_t sim_rights_to_realms(unsigned rights, uint32_t *realms, size_t max);

#endif
