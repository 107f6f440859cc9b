#include "xmlsafe.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/uri.h>
#include <libxml/xmlerror.h>

#include "err.h"

/* What one parse learned through its SAX hooks; hangs off the parser's _private. */
struct parse_state {
    unsigned depth;
    unsigned max_depth;
    int refusal; /* AMT_ERR_XML_* decided by a hook, 0 while none */
    bool have_detail;
    char detail[XMLSAFE_DETAIL_MAX];
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
init_libxml2(void)
{
    xmlInitParser();
}

static void set_detail(char *detail, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_detail(char *detail, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (detail == NULL || size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, size, fmt, ap);
    va_end(ap);
}

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF. NUL is refused too: XML forbids it, and every UTF-16 or UCS-4 document
 * whose markup is ASCII has NUL bytes, so this also catches those.
 * Returns the offset of the first bad byte, or len when all is well.
 */
static size_t
utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf;

        if (c == 0)
            return i;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0)
                lo = 0xa0; /* below is overlong */
            else if (c == 0xed)
                hi = 0x9f; /* above is a surrogate */
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0)
                lo = 0x90; /* below is overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above is past U+10FFFF */
        } else {
            return i; /* a continuation byte, C0/C1 (overlong) or F5..FF */
        }
        if (len - i <= n)
            return i; /* truncated sequence */
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return i;
        i += n + 1;
    }
    return len;
}

static bool
xml_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Looks at the XML declaration, if there is one, for an encoding other than UTF-8:
 *   <?xml version="1.0" encoding="ISO-8859-1"?>
 * The parser is told to ignore the declaration, so this is the only place where it
 * counts. A malformed declaration is left for the parser to refuse.
 */
static int
check_declared_encoding(const char *buf, size_t len, char *detail, size_t detail_size)
{
    const char *p = buf, *end = buf + len, *decl_end;
    char quote;
    size_t n;

    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    if (end - p < 6 || memcmp(p, "<?xml", 5) != 0 || !xml_space((unsigned char)p[5]))
        return 0;
    for (decl_end = p; decl_end + 1 < end; decl_end++)
        if (decl_end[0] == '?' && decl_end[1] == '>')
            break;
    for (; p + 8 <= decl_end; p++)
        if (memcmp(p, "encoding", 8) == 0)
            break;
    if (p + 8 > decl_end)
        return 0;
    p += 8;
    while (p < decl_end && xml_space((unsigned char)*p))
        p++;
    if (p == decl_end || *p++ != '=')
        return 0;
    while (p < decl_end && xml_space((unsigned char)*p))
        p++;
    if (p == decl_end || (*p != '"' && *p != '\''))
        return 0;
    quote = *p++;
    for (n = 0; p + n < decl_end && p[n] != quote; n++)
        ;
    if ((n == 5 && strncasecmp(p, "UTF-8", 5) == 0) ||
        (n == 4 && strncasecmp(p, "UTF8", 4) == 0))
        return 0;
    set_detail(detail, detail_size, "encoding declaration \"%.*s\" is not UTF-8",
               (int)(n > 40 ? 40 : n), p);
    return AMT_ERR_XML_ENCODING;
}

static void refuse(xmlParserCtxtPtr ctxt, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
refuse(xmlParserCtxtPtr ctxt, int code, const char *fmt, ...)
{
    struct parse_state *st = ctxt->_private;
    va_list ap;

    if (st->refusal == 0) {
        st->refusal = code;
        va_start(ap, fmt);
        vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
        va_end(ap);
        st->have_detail = true;
    }
    xmlStopParser(ctxt);
}

static void
on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                   const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;

    refuse(ctxt, AMT_ERR_XML_DOCTYPE, "line %d: DOCTYPE %s", xmlSAX2GetLineNumber(ctx),
           name != NULL ? (const char *)name : "");
}

/* The five predefined entities never get here: the parser resolves them itself. */
static xmlEntityPtr
on_get_entity(void *ctx, const xmlChar *name)
{
    refuse(ctx, AMT_ERR_XML_ENTITY, "line %d: entity reference &%s;",
           xmlSAX2GetLineNumber(ctx), (const char *)name);
    return NULL;
}

static void
on_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                 const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                 int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *st = ctxt->_private;

    if (++st->depth > st->max_depth) {
        refuse(ctxt, AMT_ERR_XML_TOO_DEEP, "line %d: element <%s> nested deeper than %u",
               xmlSAX2GetLineNumber(ctx), (const char *)localname, st->max_depth);
        return;
    }
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
                          nb_attributes, nb_defaulted, attributes);
}

static void
on_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
               const xmlChar *uri)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *st = ctxt->_private;

    st->depth--;
    xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* Keeps the first error for the caller instead of letting libxml2 print it. */
static void
on_error(void *ctx, xmlErrorPtr err)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *st = ctxt->_private;
    size_t n;

    if (st->have_detail || err->level < XML_ERR_ERROR)
        return;
    snprintf(st->detail, sizeof(st->detail), "line %d: %s", err->line,
             err->message != NULL ? err->message : "error");
    n = strlen(st->detail);
    while (n > 0 && xml_space((unsigned char)st->detail[n - 1]))
        st->detail[--n] = '\0';
    st->have_detail = true;
}

int
xmlsafe_parse_detail(const char *buf, size_t len, const struct xmlsafe_limits *lim,
                     xmlDocPtr *out, char *detail, size_t detail_size)
{
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                        XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC;
    xmlParserCtxtPtr ctxt = NULL;
    struct parse_state st;
    size_t max_bytes = XMLSAFE_DEFAULT_MAX_BYTES, bad;
    int r = AMT_ERR_INTERNAL;

    if (detail != NULL && detail_size > 0)
        detail[0] = '\0';
    if (out == NULL || (buf == NULL && len > 0))
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    memset(&st, 0, sizeof(st));
    st.max_depth = XMLSAFE_DEFAULT_MAX_DEPTH;
    if (lim != NULL && lim->max_bytes != 0)
        max_bytes = lim->max_bytes > INT_MAX ? INT_MAX : lim->max_bytes;
    if (lim != NULL && lim->max_depth != 0)
        st.max_depth =
            lim->max_depth > XMLSAFE_DEPTH_LIMIT ? XMLSAFE_DEPTH_LIMIT : lim->max_depth;

    if (len > max_bytes) {
        set_detail(detail, detail_size, "document of %zu bytes exceeds the cap of %zu",
                   len, max_bytes);
        return AMT_ERR_XML_TOO_LARGE;
    }
    if (len == 0) {
        set_detail(detail, detail_size, "empty document");
        return AMT_ERR_XML_PARSE;
    }
    if ((bad = utf8_invalid_at((const unsigned char *)buf, len)) != len) {
        set_detail(detail, detail_size, "byte %zu: not valid UTF-8 (0x%02x)", bad,
                   (unsigned char)buf[bad]);
        return AMT_ERR_XML_ENCODING;
    }
    if ((r = check_declared_encoding(buf, len, detail, detail_size)) != 0)
        return r;

    pthread_once(&init_once, init_libxml2);
    if ((ctxt = xmlCreateMemoryParserCtxt(buf, (int)len)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    /* Options first: they rewrite some SAX slots, and the hooks must win. */
    xmlCtxtUseOptions(ctxt, options);
    ctxt->_private = &st;
    ctxt->sax->serror = on_error;
    ctxt->sax->internalSubset = on_internal_subset;
    ctxt->sax->getEntity = on_get_entity;
    ctxt->sax->startElementNs = on_start_element;
    ctxt->sax->endElementNs = on_end_element;
    /* Nothing a DTD could declare or fetch has a slot to land in. */
    ctxt->sax->externalSubset = NULL;
    ctxt->sax->resolveEntity = NULL;
    ctxt->sax->entityDecl = NULL;
    ctxt->sax->unparsedEntityDecl = NULL;
    ctxt->sax->getParameterEntity = NULL;
    ctxt->sax->reference = NULL;

    xmlParseDocument(ctxt);

    if (st.refusal != 0)
        r = st.refusal;
    else if (!ctxt->wellFormed || !ctxt->nsWellFormed || ctxt->myDoc == NULL)
        r = AMT_ERR_XML_PARSE;
    else
        r = 0;
    if (r != 0) {
        if (st.have_detail)
            set_detail(detail, detail_size, "%s", st.detail);
        else
            set_detail(detail, detail_size, "%s", amt_strerror(r));
        goto out;
    }
    *out = ctxt->myDoc;
    ctxt->myDoc = NULL;
out:
    if (ctxt != NULL) {
        xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
        xmlFreeParserCtxt(ctxt);
    }
    return r;
}

int
xmlsafe_parse(const char *buf, size_t len, const struct xmlsafe_limits *lim,
              xmlDocPtr *out)
{
    return xmlsafe_parse_detail(buf, len, lim, out, NULL, 0);
}

const char *
xmlsafe_ns(const xmlNode *node)
{
    if (node == NULL || node->ns == NULL || node->ns->href == NULL)
        return NULL;
    return (const char *)node->ns->href;
}

bool
xmlsafe_is(const xmlNode *node, const char *ns, const char *name)
{
    const char *href;

    if (node == NULL || node->type != XML_ELEMENT_NODE)
        return false;
    if (name != NULL && strcmp((const char *)node->name, name) != 0)
        return false;
    if (ns == NULL)
        return true;
    href = xmlsafe_ns(node);
    if (ns[0] == '\0')
        return href == NULL || href[0] == '\0';
    return href != NULL && strcmp(href, ns) == 0;
}

xmlNodePtr
xmlsafe_next(const xmlNode *node, const char *ns, const char *name)
{
    if (node == NULL)
        return NULL;
    for (xmlNodePtr n = node->next; n != NULL; n = n->next)
        if (xmlsafe_is(n, ns, name))
            return n;
    return NULL;
}

xmlNodePtr
xmlsafe_child(const xmlNode *parent, const char *ns, const char *name)
{
    if (parent == NULL || parent->children == NULL)
        return NULL;
    if (xmlsafe_is(parent->children, ns, name))
        return parent->children;
    return xmlsafe_next(parent->children, ns, name);
}

static bool
is_text(const xmlNode *n)
{
    return (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) &&
           n->content != NULL;
}

/* Drops a UTF-8 sequence that a cut at n left incomplete at the end of s. */
static size_t
utf8_boundary(const char *s, size_t n)
{
    size_t k = n, need;
    unsigned char c;

    while (k > 0 && n - k < 4 && ((unsigned char)s[k - 1] & 0xc0) == 0x80)
        k--;
    if (k == 0)
        return n;
    c = (unsigned char)s[k - 1];
    if (c < 0xc0)
        return n;
    need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return n - (k - 1) < need ? k - 1 : n;
}

static int
text_copy(const xmlNode *node, char *buf, size_t size, bool cut)
{
    size_t total = 0, lead = 0, trail = 0, want, used = 0;
    bool in_lead = true, was_cut = false;

    if (node == NULL || buf == NULL || size == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    buf[0] = '\0';
    /*
     * First the lengths: all, the white space before the first other character,
     * and the white space after the last one.
     */
    for (const xmlNode *c = node->children; c != NULL; c = c->next) {
        if (!is_text(c))
            continue;
        for (const char *t = (const char *)c->content; *t != '\0'; t++, total++) {
            if (!xml_space((unsigned char)*t)) {
                in_lead = false;
                trail = 0;
            } else if (in_lead) {
                lead++;
            } else {
                trail++;
            }
        }
    }
    want = total - lead - trail;
    if (want >= size) {
        if (!cut)
            return AMT_ERR_TOO_LARGE;
        want = size - 1;
        was_cut = true;
    }
    for (const xmlNode *c = node->children; c != NULL && used < want; c = c->next) {
        size_t n;

        if (!is_text(c))
            continue;
        n = strlen((const char *)c->content);
        if (lead >= n) {
            lead -= n;
            continue;
        }
        n -= lead;
        if (n > want - used)
            n = want - used;
        memcpy(buf + used, c->content + lead, n);
        used += n;
        lead = 0;
    }
    if (was_cut)
        used = utf8_boundary(buf, used);
    buf[used] = '\0';
    return 0;
}

int
xmlsafe_text(const xmlNode *node, char *buf, size_t size)
{
    return text_copy(node, buf, size, false);
}

int
xmlsafe_text_cut(const xmlNode *node, char *buf, size_t size)
{
    return text_copy(node, buf, size, true);
}

int
xmlsafe_text_u32(const xmlNode *node, uint32_t *out)
{
    char text[16];
    uint64_t v = 0;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = 0;
    if (node == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (xmlsafe_text(node, text, sizeof(text)) != 0 || text[0] == '\0')
        return AMT_ERR_XML_VALUE;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return AMT_ERR_XML_VALUE;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return AMT_ERR_XML_VALUE;
    }
    *out = (uint32_t)v;
    return 0;
}

int
xmlsafe_check_text(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len;

    if (s == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    len = strlen(s);
    if (utf8_invalid_at(p, len) != len)
        return AMT_ERR_XML_ENCODING;
    for (size_t i = 0; i < len; i++) {
        /* C0 controls other than tab, LF and CR are not XML characters. */
        if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
            return AMT_ERR_XML_ENCODING;
        /* Neither are U+FFFE and U+FFFF (EF BF BE, EF BF BF). */
        if (p[i] == 0xef && i + 2 < len && p[i + 1] == 0xbf && p[i + 2] >= 0xbe)
            return AMT_ERR_XML_ENCODING;
    }
    return 0;
}

/*
 * libxml2 writes a namespace declaration's URI as it is, without escaping, and its
 * parser refuses a prefixed one that is not a URI: keep to printable ASCII without
 * quotes, '<', '>' or '&', and to what its URI parser accepts.
 */
bool
xmlsafe_ns_declarable(const char *href)
{
    xmlURIPtr uri;

    if (href == NULL || href[0] == '\0' ||
        strcmp(href, (const char *)XML_XML_NAMESPACE) == 0 ||
        strcmp(href, "http://www.w3.org/2000/xmlns/") == 0)
        return false;
    for (const unsigned char *p = (const unsigned char *)href; *p != '\0'; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("<>&\"'", *p) != NULL)
            return false;
    if ((uri = xmlParseURI(href)) == NULL)
        return false;
    xmlFreeURI(uri);
    return true;
}

int
xmlsafe_add_child(xmlNodePtr parent, const char *ns, const char *name, const char *value,
                  xmlNodePtr *out)
{
    xmlNsPtr nsp = NULL;
    xmlNodePtr node = NULL;
    int r = AMT_ERR_INTERNAL;

    if (out != NULL)
        *out = NULL;
    if (parent == NULL || parent->type != XML_ELEMENT_NODE || name == NULL ||
        xmlValidateNCName((const xmlChar *)name, 0) != 0 ||
        (value != NULL && xmlsafe_check_text(value) != 0))
        return AMT_ERR_INVALID_ARGUMENT;
    if (ns == NULL) {
        nsp = parent->ns;
    } else if (ns[0] == '\0') {
        /* A default namespace in scope would capture the new element. */
        xmlNsPtr dflt = xmlSearchNs(parent->doc, parent, NULL);

        if (dflt != NULL && dflt->href != NULL && dflt->href[0] != '\0')
            return AMT_ERR_INVALID_ARGUMENT;
    } else if ((nsp = xmlSearchNsByHref(parent->doc, parent, (const xmlChar *)ns)) ==
                   NULL &&
               !xmlsafe_ns_declarable(ns)) {
        return AMT_ERR_INVALID_ARGUMENT;
    }
    if ((node = xmlNewDocRawNode(parent->doc, nsp, (const xmlChar *)name,
                                 (const xmlChar *)value)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if (ns != NULL && ns[0] != '\0' && nsp == NULL) {
        char prefix[8];

        /* A prefix nobody uses above, so that no outer declaration is hidden. */
        for (int i = 1; i < 100; i++) {
            snprintf(prefix, sizeof(prefix), "n%d", i);
            if (xmlSearchNs(parent->doc, parent, (const xmlChar *)prefix) == NULL)
                break;
        }
        if ((nsp = xmlNewNs(node, (const xmlChar *)ns, (const xmlChar *)prefix)) ==
            NULL) {
            r = AMT_ERR_ALLOC;
            goto out;
        }
        xmlSetNs(node, nsp);
    }
    if (xmlAddChild(parent, node) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if (out != NULL)
        *out = node;
    node = NULL;
    r = 0;
out:
    xmlFreeNode(node);
    return r;
}

int
xmlsafe_serialize(xmlDocPtr doc, char **text, size_t *len)
{
    xmlChar *mem = NULL;
    int size = 0;
    char *copy;

    if (text != NULL)
        *text = NULL;
    if (len != NULL)
        *len = 0;
    if (doc == NULL || text == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
    if (mem == NULL || size < 0)
        return AMT_ERR_ALLOC;
    if ((copy = malloc((size_t)size + 1)) == NULL) {
        xmlFree(mem);
        return AMT_ERR_ALLOC;
    }
    memcpy(copy, mem, (size_t)size);
    copy[size] = '\0';
    xmlFree(mem);
    *text = copy;
    if (len != NULL)
        *len = (size_t)size;
    return 0;
}
