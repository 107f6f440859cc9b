#include "nsrules.h"

#include <string.h>

#include "err.h"

static const char *const verdict_names[] = {
    [NS_SUPPORTED] = "supported",       [NS_WORKGROUP] = "workgroup",
    [NS_OTHER_FOREST] = "other-forest", [NS_NON_CONTIGUOUS] = "non-contiguous",
    [NS_DISJOINT] = "disjoint",
};

const char *
ns_verdict_name(int verdict)
{
    if (verdict < 0 ||
        (size_t)verdict >= sizeof(verdict_names) / sizeof(verdict_names[0]))
        return "unknown";
    return verdict_names[verdict];
}

/*
 * Length without one trailing dot. Bounded so that a caller's unterminated or huge
 * string costs at most a cap's worth of reading; anything longer is invalid anyway.
 */
static size_t
name_len(const char *name)
{
    size_t n = strnlen(name, NS_NAME_MAX + 2);

    if (n > 0 && name[n - 1] == '.')
        n--;
    return n;
}

/* DNS names are ASCII: a locale must not change what matches. */
static int
ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool
same_text(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    return true;
}

static bool
is_ldh(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-';
}

int
ns_name_valid(const char *name)
{
    size_t n, label = 0;

    if (name == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    n = name_len(name);
    if (n == 0 || n > NS_NAME_MAX)
        return AMT_ERR_NS_NAME;
    for (size_t i = 0; i <= n; i++) {
        int c = i < n ? (unsigned char)name[i] : '.';

        if (c == '.') {
            if (label == 0 || name[i - 1] == '-')
                return AMT_ERR_NS_NAME;
            label = 0;
            continue;
        }
        if (!is_ldh(c) || (label == 0 && c == '-') || ++label > NS_LABEL_MAX)
            return AMT_ERR_NS_NAME;
    }
    return 0;
}

bool
ns_name_equal(const char *a, const char *b)
{
    size_t na, nb;

    if (a == NULL || b == NULL)
        return false;
    na = name_len(a);
    nb = name_len(b);
    return na == nb && na <= NS_NAME_MAX && same_text(a, b, na);
}

bool
ns_name_is_under(const char *name, const char *suffix)
{
    size_t n, s;

    if (name == NULL || suffix == NULL)
        return false;
    n = name_len(name);
    s = name_len(suffix);
    if (s == 0 || n > NS_NAME_MAX || s > NS_NAME_MAX || n < s ||
        !same_text(name + n - s, suffix, s))
        return false;
    if (n == s)
        return true;
    /* "x.contoso.com" is under "contoso.com"; "badcontoso.com" and ".contoso.com" are
     * not. */
    return n - s >= 2 && name[n - s - 1] == '.';
}

static size_t
label_count(const char *name)
{
    size_t n = name_len(name), count = 1;

    for (size_t i = 0; i < n; i++)
        if (name[i] == '.')
            count++;
    return count;
}

static bool
in_forest(const struct ns_forest *forest, const char *domain)
{
    if (ns_name_is_under(domain, forest->root))
        return true;
    for (size_t i = 0; i < forest->n_domains; i++)
        if (ns_name_equal(domain, forest->domains[i]))
            return true;
    return false;
}

/*
 * The root of the tree the service point's domain belongs to: the forest root or a
 * listed domain, the one with fewest labels among those sp_domain equals or is under.
 * A listed domain that is not a tree root (a child) never wins over its tree root,
 * because the tree root has fewer labels and sp_domain is under it too.
 */
static const char *
tree_root_of(const struct ns_forest *forest, const char *sp_domain)
{
    const char *best = NULL;

    if (ns_name_is_under(sp_domain, forest->root))
        best = forest->root;
    for (size_t i = 0; i < forest->n_domains; i++) {
        const char *d = forest->domains[i];

        if (ns_name_is_under(sp_domain, d) &&
            (best == NULL || label_count(d) < label_count(best)))
            best = d;
    }
    return best;
}

static int
validate_forest(const struct ns_forest *forest)
{
    int r;

    if (forest->root == NULL || (forest->n_domains > 0 && forest->domains == NULL))
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = ns_name_valid(forest->root)) != 0)
        return r;
    for (size_t i = 0; i < forest->n_domains; i++)
        if ((r = ns_name_valid(forest->domains[i])) != 0)
            return r;
    return 0;
}

int
ns_classify(const char *sp_domain, const char *fqdn, const char *computer_domain,
            const struct ns_forest *forest, enum ns_verdict *verdict)
{
    enum ns_verdict v = NS_SUPPORTED;
    const char *tree_root = sp_domain;
    const char *dot;
    int r = AMT_ERR_INTERNAL;

    if (verdict != NULL)
        *verdict = NS_SUPPORTED;
    if (sp_domain == NULL || fqdn == NULL) {
        r = AMT_ERR_INVALID_ARGUMENT;
        goto out;
    }
    if ((r = ns_name_valid(sp_domain)) != 0 || (r = ns_name_valid(fqdn)) != 0)
        goto out;
    if (computer_domain != NULL && computer_domain[0] != '\0' &&
        (r = ns_name_valid(computer_domain)) != 0)
        goto out;
    if (forest != NULL) {
        if ((r = validate_forest(forest)) != 0)
            goto out;
        if ((tree_root = tree_root_of(forest, sp_domain)) == NULL) {
            r = AMT_ERR_INVALID_ARGUMENT;
            goto out;
        }
    }

    dot = strchr(fqdn, '.');
    if (computer_domain == NULL || computer_domain[0] == '\0')
        v = NS_WORKGROUP;
    else if (forest != NULL && !in_forest(forest, computer_domain))
        v = NS_OTHER_FOREST;
    else if (!ns_name_is_under(computer_domain, tree_root))
        v = NS_NON_CONTIGUOUS;
    else if (dot == NULL || !ns_name_equal(dot + 1, computer_domain))
        v = NS_DISJOINT;

    if (verdict != NULL)
        *verdict = v;
    r = v == NS_SUPPORTED ? 0 : AMT_ERR_NS_UNSUPPORTED;
out:
    return r;
}
