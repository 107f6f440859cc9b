/*
 * Namespace rules (catalogue NS-FOREST): a computer is managed out of band only when
 * it is in the service point's directory forest and shares the service point's
 * namespace.
 *
 * Names are DNS names: labels of 1 to 63 letters, digits and hyphens, a label neither
 * starting nor ending with a hyphen, at most 253 characters in all; one trailing dot
 * is tolerated and ignored. Comparisons are case-insensitive and always by whole
 * labels, so "badcontoso.com" is not under "contoso.com".
 *
 * Definitions, checked in this order (the first that applies is the verdict):
 *
 *   workgroup       the computer has no directory domain (NULL or "").
 *   other-forest    a forest description is given and the computer's directory
 *                   domain is not in it: neither the forest root, nor under the forest
 *                   root, nor equal to one of the forest's listed domains.
 *   non-contiguous  the computer's directory domain is not equal to or under the tree
 *                   root of the service point's domain. That tree root is the
 *                   shortest of the forest root and the listed domains that the
 *                   service point's domain equals or is under. Without a forest
 *                   description the service point's own domain stands for its tree
 *                   root (and other-forest cannot be told apart from non-contiguous).
 *   disjoint        the computer's DNS suffix (its FQDN without the first label)
 *                   differs from its directory domain. A one-label FQDN has an empty
 *                   suffix and is therefore disjoint.
 *
 * Catalogue examples: computer1.northwindtraders.com (directory domain
 * northwindtraders.com) under a service point in contoso.com, same forest, is
 * non-contiguous; computer1.corp.fabrikam.com in the directory domain
 * na.corp.fabrikam.com is disjoint.
 */
#ifndef AMT_NSRULES_H
#define AMT_NSRULES_H

#include <stdbool.h>
#include <stddef.h>

/* The longest DNS name in characters, without the optional trailing dot. */
#define NS_NAME_MAX 253
#define NS_LABEL_MAX 63

enum ns_verdict {
    NS_SUPPORTED = 0,
    NS_WORKGROUP,
    NS_OTHER_FOREST,
    NS_NON_CONTIGUOUS,
    NS_DISJOINT,
};

/*
 * The service point's forest: its root domain and the domains in it (every tree
 * root and child domain; listing the root again is harmless).
 */
struct ns_forest {
    const char *root;
    const char *const *domains;
    size_t n_domains;
};

/* "supported", "workgroup", "other-forest", "non-contiguous", "disjoint"; "unknown". */
const char *ns_verdict_name(int verdict);

/* 0 for a valid DNS name (see above), AMT_ERR_NS_NAME otherwise. */
int ns_name_valid(const char *name);

/* Same name, ignoring case and one trailing dot on either side. */
bool ns_name_equal(const char *a, const char *b);

/*
 * True when name equals suffix or lies below it, by whole labels. An empty or NULL
 * suffix matches nothing, so that an unset setting never admits every name.
 */
bool ns_name_is_under(const char *name, const char *suffix);

/*
 * Classifies a computer against a service point in sp_domain. computer_domain is
 * the computer's directory domain (NULL or "" for a workgroup computer); forest may
 * be NULL. Returns 0 when supported, AMT_ERR_NS_UNSUPPORTED with *verdict saying why,
 * AMT_ERR_NS_NAME when any name is not a DNS name, AMT_ERR_INVALID_ARGUMENT when a
 * required name is NULL or sp_domain is outside the forest described. verdict may be
 * NULL; when not, it is NS_SUPPORTED unless the computer is refused.
 */
int ns_classify(const char *sp_domain, const char *fqdn, const char *computer_domain,
                const struct ns_forest *forest, enum ns_verdict *verdict);

#endif
