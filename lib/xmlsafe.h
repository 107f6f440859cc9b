/*
 * The one way into an XML document that came from the network or a file, and the
 * small namespace-aware helpers both sides use to walk and build documents.
 *
 * xmlsafe_parse refuses, with its own code each: a DOCTYPE (so no DTD, internal or
 * external, and no entity declarations), any entity reference other than the five
 * predefined ones, bytes that are not UTF-8, an encoding declaration other than
 * UTF-8, a document larger than the size cap or nested deeper than the depth cap.
 * It never touches the network, never processes XInclude, and never writes to
 * stderr. Safe to call from several threads at once.
 */
#ifndef AMT_XMLSAFE_H
#define AMT_XMLSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

/* Defaults of struct xmlsafe_limits: a SOAP or WS-Man message is far smaller. */
#define XMLSAFE_DEFAULT_MAX_BYTES (1024u * 1024u)
#define XMLSAFE_DEFAULT_MAX_DEPTH 64u
/* libxml2 refuses deeper documents by itself; a larger max_depth acts as this. */
#define XMLSAFE_DEPTH_LIMIT 256u
/* Room for an error text from xmlsafe_parse_detail, including the NUL. */
#define XMLSAFE_DETAIL_MAX 256

struct xmlsafe_limits {
    /* 0: XMLSAFE_DEFAULT_MAX_BYTES; more than INT_MAX acts as INT_MAX */
    size_t max_bytes;
    /* 0: XMLSAFE_DEFAULT_MAX_DEPTH; the root element is depth 1 */
    unsigned max_depth;
};

/*
 * Parses len bytes of buf into a new document (free with xmlFreeDoc). lim NULL
 * means the defaults. Returns 0 or AMT_ERR_XML_TOO_LARGE, _ENCODING, _DOCTYPE,
 * _ENTITY, _TOO_DEEP or _PARSE.
 */
int xmlsafe_parse(const char *buf, size_t len, const struct xmlsafe_limits *lim,
                  xmlDocPtr *out);

/*
 * The same, and on failure writes a one-line explanation (with the line or byte
 * offset where the input went wrong) into detail, if detail is not NULL.
 */
int xmlsafe_parse_detail(const char *buf, size_t len, const struct xmlsafe_limits *lim,
                         xmlDocPtr *out, char *detail, size_t detail_size);

/*
 * Element matching. ns NULL matches any namespace, "" only elements in no
 * namespace, anything else that namespace URI; name NULL matches any local name.
 */
bool xmlsafe_is(const xmlNode *node, const char *ns, const char *name);
/* First child element of parent that matches; NULL if none. */
xmlNodePtr xmlsafe_child(const xmlNode *parent, const char *ns, const char *name);
/* Next sibling element after node that matches; NULL if none. */
xmlNodePtr xmlsafe_next(const xmlNode *node, const char *ns, const char *name);
/* Namespace URI of an element, or NULL if it has none. */
const char *xmlsafe_ns(const xmlNode *node);

/*
 * The text directly inside an element (its text children, not its descendants'),
 * with leading and trailing XML white space removed, copied into buf.
 * AMT_ERR_TOO_LARGE (and buf "") when it does not fit in size bytes with its NUL.
 */
int xmlsafe_text(const xmlNode *node, char *buf, size_t size);
/* The same, but text too long is cut at a character boundary to fit. */
int xmlsafe_text_cut(const xmlNode *node, char *buf, size_t size);
/* The element's trimmed text as a decimal number up to 2^32-1, or AMT_ERR_XML_VALUE. */
int xmlsafe_text_u32(const xmlNode *node, uint32_t *out);

/* 0 if s is UTF-8 made only of characters XML allows, else AMT_ERR_XML_ENCODING. */
int xmlsafe_check_text(const char *s);
/*
 * Whether href may be bound to a new prefix or made the default namespace: a URI
 * of printable ASCII other than quotes, '<', '>' and '&', and neither the xml nor
 * the xmlns namespace, which XML reserves for their own prefixes.
 */
bool xmlsafe_ns_declarable(const char *href);

/*
 * Appends to parent a new element holding value as text (NULL: no text, for an
 * element that gets children of its own). ns NULL puts it in parent's namespace,
 * "" in no namespace, otherwise in that URI, declared on the new element when not
 * already in scope. The name must be an NCName and value valid XML text, else
 * AMT_ERR_INVALID_ARGUMENT. *out (optional) receives the element.
 */
int xmlsafe_add_child(xmlNodePtr parent, const char *ns, const char *name,
                      const char *value, xmlNodePtr *out);

/* The document as UTF-8 text in a fresh NUL-terminated buffer (free with free()). */
int xmlsafe_serialize(xmlDocPtr doc, char **text, size_t *len);

#endif
