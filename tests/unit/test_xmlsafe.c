/*
 * xmlsafe: every hostile input is refused with its own code, inputs exactly at the
 * caps pass, libxml2 stays silent, and the helpers walk and build namespaces right.
 */
#include "err.h"
#include "unit.h"
#include "xmlsafe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
parse_str(const char *s, const struct xmlsafe_limits *lim)
{
    xmlDocPtr doc = NULL;
    int r = xmlsafe_parse(s, strlen(s), lim, &doc);

    CU_ASSERT((r == 0) == (doc != NULL));
    xmlFreeDoc(doc);
    return r;
}

static int
parse_bytes(const char *s, size_t len)
{
    xmlDocPtr doc = NULL;
    int r = xmlsafe_parse(s, len, NULL, &doc);

    xmlFreeDoc(doc);
    return r;
}

/* <a><a>...</a></a>, depth elements deep. */
static char *
nested(unsigned depth)
{
    char *s = malloc(depth * 7 + 1), *p = s;

    for (unsigned i = 0; i < depth; i++, p += 3)
        memcpy(p, "<a>", 3);
    for (unsigned i = 0; i < depth; i++, p += 4)
        memcpy(p, "</a>", 4);
    *p = '\0';
    return s;
}

/* A well-formed document of exactly len bytes. */
static char *
padded(size_t len)
{
    char *s = malloc(len + 1);

    memset(s, ' ', len);
    memcpy(s, "<a>", 3);
    memcpy(s + len - 4, "</a>", 4);
    s[len] = '\0';
    return s;
}

static const char soap_envelope[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
    "<soap:Body><GetCoreVersion "
    "xmlns=\"http://schemas.intel.com/platform/client/SecurityAdministration/2004/01\"/>"
    "</soap:Body></soap:Envelope>";

static void
test_valid_envelope(void)
{
    xmlDocPtr doc = NULL;
    char detail[XMLSAFE_DETAIL_MAX] = "untouched";

    CU_ASSERT_EQUAL(xmlsafe_parse_detail(soap_envelope, strlen(soap_envelope), NULL, &doc,
                                         detail, sizeof(detail)),
                    0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_STRING_EQUAL(detail, "");
    CU_ASSERT_TRUE(xmlsafe_is(xmlDocGetRootElement(doc),
                              "http://schemas.xmlsoap.org/soap/envelope/", "Envelope"));
    xmlFreeDoc(doc);
}

static void
test_billion_laughs(void)
{
    static const char doc[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        "]>\n<lolz>&lol4;</lolz>";
    char detail[XMLSAFE_DETAIL_MAX];
    xmlDocPtr out = NULL;

    CU_ASSERT_EQUAL(
        xmlsafe_parse_detail(doc, strlen(doc), NULL, &out, detail, sizeof(detail)),
        AMT_ERR_XML_DOCTYPE);
    CU_ASSERT_PTR_NULL(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, "DOCTYPE lolz"));
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, "line 2"));
}

static void
test_external_entity(void)
{
    CU_ASSERT_EQUAL(parse_str("<!DOCTYPE a [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                              "<a>&xxe;</a>",
                              NULL),
                    AMT_ERR_XML_DOCTYPE);
}

static void
test_external_dtd(void)
{
    CU_ASSERT_EQUAL(
        parse_str("<!DOCTYPE a SYSTEM \"http://127.0.0.1:9/a.dtd\"><a/>", NULL),
        AMT_ERR_XML_DOCTYPE);
    CU_ASSERT_EQUAL(
        parse_str("<!DOCTYPE a PUBLIC \"-//X//DTD X//EN\" \"file:///dev/zero\">"
                  "<a/>",
                  NULL),
        AMT_ERR_XML_DOCTYPE);
    /* Even one that declares nothing. */
    CU_ASSERT_EQUAL(parse_str("<!DOCTYPE a><a/>", NULL), AMT_ERR_XML_DOCTYPE);
}

static void
test_parameter_entities(void)
{
    CU_ASSERT_EQUAL(parse_str("<!DOCTYPE a [<!ENTITY % p SYSTEM \"file:///etc/passwd\">"
                              "%p;]><a/>",
                              NULL),
                    AMT_ERR_XML_DOCTYPE);
    CU_ASSERT_EQUAL(parse_str("<!DOCTYPE a [<!ENTITY % q \"<!ENTITY e 'x'>\">%q;]>"
                              "<a>&e;</a>",
                              NULL),
                    AMT_ERR_XML_DOCTYPE);
}

static void
test_entity_reference(void)
{
    char detail[XMLSAFE_DETAIL_MAX];
    xmlDocPtr out = NULL;
    static const char doc[] = "<a>\n&foo;</a>";

    CU_ASSERT_EQUAL(
        xmlsafe_parse_detail(doc, strlen(doc), NULL, &out, detail, sizeof(detail)),
        AMT_ERR_XML_ENTITY);
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, "&foo;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, "line 2"));
    CU_ASSERT_EQUAL(parse_str("<a b=\"x&bar;\"/>", NULL), AMT_ERR_XML_ENTITY);
}

static void
test_predefined_entities(void)
{
    static const char doc[] =
        "<a t=\"&quot;&apos;\">&amp;&lt;&gt;&#65;&#x42;&#x20AC;</a>";
    xmlDocPtr out = NULL;
    xmlChar *t;
    char text[32];

    CU_ASSERT_EQUAL_FATAL(xmlsafe_parse(doc, strlen(doc), NULL, &out), 0);
    CU_ASSERT_EQUAL(xmlsafe_text(xmlDocGetRootElement(out), text, sizeof(text)), 0);
    CU_ASSERT_STRING_EQUAL(text, "&<>AB\xe2\x82\xac");
    t = xmlGetProp(xmlDocGetRootElement(out), (const xmlChar *)"t");
    CU_ASSERT_STRING_EQUAL((const char *)t, "\"'");
    xmlFree(t);
    xmlFreeDoc(out);
}

static void
test_xinclude_not_processed(void)
{
    static const char doc[] =
        "<a xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
        "<xi:include href=\"file:///etc/passwd\" parse=\"text\"/></a>";
    xmlDocPtr out = NULL;

    CU_ASSERT_EQUAL_FATAL(xmlsafe_parse(doc, strlen(doc), NULL, &out), 0);
    CU_ASSERT_TRUE(xmlsafe_is(xmlsafe_child(xmlDocGetRootElement(out), NULL, NULL),
                              "http://www.w3.org/2001/XInclude", "include"));
    xmlFreeDoc(out);
}

static void
test_depth_default_cap(void)
{
    char *at = nested(XMLSAFE_DEFAULT_MAX_DEPTH),
         *over = nested(XMLSAFE_DEFAULT_MAX_DEPTH + 1);
    char detail[XMLSAFE_DETAIL_MAX];
    xmlDocPtr out = NULL;

    CU_ASSERT_EQUAL(parse_str(at, NULL), 0);
    CU_ASSERT_EQUAL(
        xmlsafe_parse_detail(over, strlen(over), NULL, &out, detail, sizeof(detail)),
        AMT_ERR_XML_TOO_DEEP);
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, "deeper than 64"));
    free(at);
    free(over);
}

static void
test_depth_custom_cap(void)
{
    struct xmlsafe_limits lim = {.max_depth = 3};
    char *huge = nested(XMLSAFE_DEPTH_LIMIT), *past = nested(XMLSAFE_DEPTH_LIMIT + 1);

    CU_ASSERT_EQUAL(parse_str("<a><b><c/></b></a>", &lim), 0);
    CU_ASSERT_EQUAL(parse_str("<a><b><c><d/></c></b></a>", &lim), AMT_ERR_XML_TOO_DEEP);
    /* Siblings do not add up: depth is nesting, not element count. */
    CU_ASSERT_EQUAL(parse_str("<a><b><c/><c/></b><b><c/></b></a>", &lim), 0);
    /* A cap above libxml2's own acts as that one. */
    lim.max_depth = 100000;
    CU_ASSERT_EQUAL(parse_str(huge, &lim), 0);
    CU_ASSERT_EQUAL(parse_str(past, &lim), AMT_ERR_XML_TOO_DEEP);
    free(huge);
    free(past);
}

static void
test_size_default_cap(void)
{
    char *at = padded(XMLSAFE_DEFAULT_MAX_BYTES),
         *over = padded(XMLSAFE_DEFAULT_MAX_BYTES + 1);
    char detail[XMLSAFE_DETAIL_MAX];
    xmlDocPtr out = NULL;

    CU_ASSERT_EQUAL(parse_str(at, NULL), 0);
    CU_ASSERT_EQUAL(
        xmlsafe_parse_detail(over, strlen(over), NULL, &out, detail, sizeof(detail)),
        AMT_ERR_XML_TOO_LARGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, "1048577"));
    free(at);
    free(over);
}

static void
test_size_custom_cap(void)
{
    struct xmlsafe_limits lim = {.max_bytes = 100};
    char *at = padded(100), *over = padded(101);

    CU_ASSERT_EQUAL(parse_str(at, &lim), 0);
    CU_ASSERT_EQUAL(parse_str(over, &lim), AMT_ERR_XML_TOO_LARGE);
    free(at);
    free(over);
}

static void
test_invalid_utf8(void)
{
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"<a>\xc0\xaf</a>", 9},              /* overlong '/' in two bytes */
        {"<a>\xe0\x80\xaf</a>", 10},         /* overlong '/' in three bytes */
        {"<a>\xf0\x80\x80\xaf</a>", 11},     /* overlong '/' in four bytes */
        {"<a>\xed\xa0\x80</a>", 10},         /* high surrogate U+D800 */
        {"<a>\xed\xbf\xbf</a>", 10},         /* low surrogate U+DFFF */
        {"<a>\xf4\x90\x80\x80</a>", 11},     /* above U+10FFFF */
        {"<a>\xe2\x82</a>", 9},              /* truncated, then markup */
        {"<a/>\xe2\x82", 6},                 /* truncated at the very end */
        {"<a>\x80</a>", 8},                  /* lone continuation byte */
        {"<a>\xf8\x88\x80\x80\x80</a>", 12}, /* five-byte form */
        {"<a>\xfe</a>", 8},
        {"<a>\0</a>", 8},       /* NUL */
        {"<a>\xc3\x28</a>", 9}, /* lead byte without its continuation */
    };
    char detail[XMLSAFE_DETAIL_MAX];
    xmlDocPtr out = NULL;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(parse_bytes(bad[i].bytes, bad[i].len), AMT_ERR_XML_ENCODING);
    CU_ASSERT_EQUAL(xmlsafe_parse_detail(bad[0].bytes, bad[0].len, NULL, &out, detail,
                                         sizeof(detail)),
                    AMT_ERR_XML_ENCODING);
    CU_ASSERT_STRING_EQUAL(detail, "byte 3: not valid UTF-8 (0xc0)");
    /* The largest of each length are fine. */
    CU_ASSERT_EQUAL(parse_str("<a>\x7f\xdf\xbf\xef\xbf\xbd\xf4\x8f\xbf\xbf"
                              "\xc3\xa9\xed\x9f\xbf\xee\x80\x80</a>",
                              NULL),
                    0);
}

static void
test_encoding_declaration(void)
{
    static const char utf16le[] = "\xff\xfe<\0a\0/\0>\0";
    char detail[XMLSAFE_DETAIL_MAX];
    xmlDocPtr out = NULL;
    const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>";

    CU_ASSERT_EQUAL(
        xmlsafe_parse_detail(doc, strlen(doc), NULL, &out, detail, sizeof(detail)),
        AMT_ERR_XML_ENCODING);
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, "UTF-16"));
    CU_ASSERT_EQUAL(
        parse_str("<?xml version='1.0' encoding = 'ISO-8859-1' ?><a>\xc3\xa9</a>", NULL),
        AMT_ERR_XML_ENCODING);
    CU_ASSERT_EQUAL(parse_bytes(utf16le, sizeof(utf16le) - 1), AMT_ERR_XML_ENCODING);
    CU_ASSERT_EQUAL(parse_str("<?xml version=\"1.0\" encoding=\"utf-8\"?><a/>", NULL), 0);
    CU_ASSERT_EQUAL(
        parse_str("\xef\xbb\xbf<?xml version='1.0' encoding='UTF8'?><a/>", NULL), 0);
    CU_ASSERT_EQUAL(parse_str("<?xml version=\"1.0\" standalone=\"yes\"?><a/>", NULL), 0);
    /* Malformed declarations are the parser's to refuse. */
    CU_ASSERT_EQUAL(parse_str("<?xml version=\"1.0\" encoding?><a/>", NULL),
                    AMT_ERR_XML_PARSE);
    CU_ASSERT_EQUAL(parse_str("<?xml version=\"1.0\" encoding=UTF-16?><a/>", NULL),
                    AMT_ERR_XML_PARSE);
    CU_ASSERT_EQUAL(parse_str("<?xml version=\"1.0\" encoding=", NULL),
                    AMT_ERR_XML_PARSE);
}

static void
test_malformed(void)
{
    static const char *const bad[] = {
        "<a><b></a>",       "<a>",         "just text", "<a></a><b/>", "<x:a/>",
        "<a x='1' x='2'/>", "<a>\x01</a>", "   ",
    };
    char detail[XMLSAFE_DETAIL_MAX];
    xmlDocPtr out = NULL;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(parse_str(bad[i], NULL), AMT_ERR_XML_PARSE);
    CU_ASSERT_EQUAL(xmlsafe_parse_detail("", 0, NULL, &out, detail, sizeof(detail)),
                    AMT_ERR_XML_PARSE);
    CU_ASSERT_STRING_EQUAL(detail, "empty document");
    CU_ASSERT_EQUAL(
        xmlsafe_parse_detail("<a>\n<b></a>", 11, NULL, &out, detail, sizeof(detail)),
        AMT_ERR_XML_PARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, "line 2: "));
    CU_ASSERT_NOT_EQUAL(detail[strlen(detail) - 1], '\n');
    /* Undeclared prefixes leave names ambiguous: refused even though libxml2 copes. */
    CU_ASSERT_EQUAL(
        xmlsafe_parse_detail("<a><p:b/></a>", 13, NULL, &out, detail, sizeof(detail)),
        AMT_ERR_XML_PARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, "p"));
}

static void
test_bad_arguments(void)
{
    xmlDocPtr out = NULL;
    char small[8];

    CU_ASSERT_EQUAL(xmlsafe_parse("<a/>", 4, NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(xmlsafe_parse(NULL, 4, NULL, &out), AMT_ERR_INVALID_ARGUMENT);
    /* A detail buffer too small is cut, never overrun. */
    CU_ASSERT_EQUAL(
        xmlsafe_parse_detail("<!DOCTYPE a><a/>", 16, NULL, &out, small, sizeof(small)),
        AMT_ERR_XML_DOCTYPE);
    CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
    CU_ASSERT_EQUAL(xmlsafe_parse_detail("<a>", 3, NULL, &out, NULL, 0),
                    AMT_ERR_XML_PARSE);
}

/* libxml2 prints nothing to stderr, whatever the input. */
static void
test_silent(void)
{
    static const char *const inputs[] = {
        "<a><b></a>",
        "<!DOCTYPE a SYSTEM \"x\"><a/>",
        "<a>&x;</a>",
        "<a xmlns:p='x'><q:b/></a>",
        "<a xmlns='not a uri'/>",
    };
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    struct stat st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(tmp);
    fflush(stderr);
    dup2(fileno(tmp), STDERR_FILENO);
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
        parse_str(inputs[i], NULL);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    CU_ASSERT_EQUAL(fstat(fileno(tmp), &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 0);
    fclose(tmp);
}

static void *
parse_many(void *arg)
{
    long bad = 0;

    for (int i = 0; i < 200; i++) {
        if (parse_str(soap_envelope, NULL) != 0)
            bad++;
        if (parse_str("<a><b></a>", NULL) != AMT_ERR_XML_PARSE)
            bad++;
        if (parse_str("<!DOCTYPE a><a/>", NULL) != AMT_ERR_XML_DOCTYPE)
            bad++;
    }
    return (void *)bad;
}

static void
test_threads(void)
{
    pthread_t t[4];
    void *bad;

    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, parse_many, NULL), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], &bad);
        CU_ASSERT_PTR_NULL(bad);
    }
}

static void
test_find(void)
{
    static const char doc[] = "<r xmlns:x='urn:x'>text<a/><!-- c --><x:a/><b/>"
                              "<a xmlns='urn:y'/><x:b/></r>";
    xmlDocPtr d = NULL;
    xmlNodePtr root, n;

    CU_ASSERT_EQUAL_FATAL(xmlsafe_parse(doc, strlen(doc), NULL, &d), 0);
    root = xmlDocGetRootElement(d);
    n = xmlsafe_child(root, NULL, NULL);
    CU_ASSERT_TRUE(xmlsafe_is(n, "", "a"));
    CU_ASSERT_PTR_NULL(xmlsafe_ns(n));
    n = xmlsafe_child(root, "urn:x", "a");
    CU_ASSERT_STRING_EQUAL(xmlsafe_ns(n), "urn:x");
    CU_ASSERT_TRUE(xmlsafe_is(xmlsafe_next(n, NULL, "a"), "urn:y", "a"));
    CU_ASSERT_TRUE(xmlsafe_is(xmlsafe_next(n, "", NULL), "", "b"));
    CU_ASSERT_TRUE(xmlsafe_is(xmlsafe_child(root, "urn:x", "b"), "urn:x", "b"));
    CU_ASSERT_PTR_NULL(xmlsafe_child(root, "urn:z", NULL));
    CU_ASSERT_PTR_NULL(xmlsafe_child(n, NULL, NULL));
    CU_ASSERT_PTR_NULL(xmlsafe_child(NULL, NULL, NULL));
    CU_ASSERT_PTR_NULL(xmlsafe_next(NULL, NULL, NULL));
    CU_ASSERT_FALSE(xmlsafe_is(root->children, NULL, NULL)); /* a text node */
    CU_ASSERT_FALSE(xmlsafe_is(root, "urn:x", "r"));
    CU_ASSERT_FALSE(xmlsafe_is(xmlsafe_child(root, "urn:x", NULL), "", NULL));
    xmlFreeDoc(d);
}

static void
test_text(void)
{
    static const char doc[] =
        "<r><a> \n\t spaced  out \r\n</a><b>  </b><c> <i/> x<i/>y </c>"
        "<d><![CDATA[ <raw> ]]></d><e>caf\xc3\xa9</e><f>  4294967295 </f>"
        "<g>4294967296</g><h>12a</h><j>007</j><k/><l>x\xe2\x82\xac\xe2\x82\xac</l></r>";
    xmlDocPtr d = NULL;
    xmlNodePtr root;
    char buf[16], small[6];
    uint32_t v = 7;

    CU_ASSERT_EQUAL_FATAL(xmlsafe_parse(doc, strlen(doc), NULL, &d), 0);
    root = xmlDocGetRootElement(d);
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(root, NULL, "a"), buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "spaced  out");
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(root, NULL, "b"), buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "");
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(root, NULL, "c"), buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "xy");
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(root, NULL, "d"), buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "<raw>");
    /* Exactly filling the buffer fits; one byte less does not. */
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(root, NULL, "e"), small, 6), 0);
    CU_ASSERT_STRING_EQUAL(small, "caf\xc3\xa9");
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(root, NULL, "e"), small, 5),
                    AMT_ERR_TOO_LARGE);
    CU_ASSERT_STRING_EQUAL(small, "");
    /* Cutting never splits a character. */
    CU_ASSERT_EQUAL(xmlsafe_text_cut(xmlsafe_child(root, NULL, "e"), small, 6), 0);
    CU_ASSERT_STRING_EQUAL(small, "caf\xc3\xa9");
    CU_ASSERT_EQUAL(xmlsafe_text_cut(xmlsafe_child(root, NULL, "e"), small, 5), 0);
    CU_ASSERT_STRING_EQUAL(small, "caf");
    CU_ASSERT_EQUAL(xmlsafe_text_cut(xmlsafe_child(root, NULL, "a"), small, 4), 0);
    CU_ASSERT_STRING_EQUAL(small, "spa");
    CU_ASSERT_EQUAL(xmlsafe_text_cut(xmlsafe_child(root, NULL, "l"), small, 6), 0);
    CU_ASSERT_STRING_EQUAL(small, "x\xe2\x82\xac");
    CU_ASSERT_EQUAL(xmlsafe_text_cut(xmlsafe_child(root, NULL, "l"), small, 4), 0);
    CU_ASSERT_STRING_EQUAL(small, "x");
    CU_ASSERT_EQUAL(xmlsafe_text(NULL, buf, sizeof(buf)), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(xmlsafe_text(root, buf, 0), AMT_ERR_INVALID_ARGUMENT);

    CU_ASSERT_EQUAL(xmlsafe_text_u32(xmlsafe_child(root, NULL, "f"), &v), 0);
    CU_ASSERT_EQUAL(v, 4294967295u);
    CU_ASSERT_EQUAL(xmlsafe_text_u32(xmlsafe_child(root, NULL, "j"), &v), 0);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(xmlsafe_text_u32(xmlsafe_child(root, NULL, "g"), &v),
                    AMT_ERR_XML_VALUE);
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_EQUAL(xmlsafe_text_u32(xmlsafe_child(root, NULL, "h"), &v),
                    AMT_ERR_XML_VALUE);
    CU_ASSERT_EQUAL(xmlsafe_text_u32(xmlsafe_child(root, NULL, "k"), &v),
                    AMT_ERR_XML_VALUE);
    CU_ASSERT_EQUAL(xmlsafe_text_u32(xmlsafe_child(root, NULL, "a"), &v),
                    AMT_ERR_XML_VALUE);
    CU_ASSERT_EQUAL(xmlsafe_text_u32(NULL, &v), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(xmlsafe_text_u32(root, NULL), AMT_ERR_INVALID_ARGUMENT);
    xmlFreeDoc(d);
}

static void
test_check_text(void)
{
    CU_ASSERT_EQUAL(xmlsafe_check_text("plain <&\"> \t\r\n caf\xc3\xa9"), 0);
    CU_ASSERT_EQUAL(xmlsafe_check_text("\xef\xbf\xbd"), 0); /* U+FFFD */
    CU_ASSERT_EQUAL(xmlsafe_check_text("bell\x07"), AMT_ERR_XML_ENCODING);
    CU_ASSERT_EQUAL(xmlsafe_check_text("\xef\xbf\xbe"),
                    AMT_ERR_XML_ENCODING); /* U+FFFE */
    CU_ASSERT_EQUAL(xmlsafe_check_text("\xef\xbf\xbf"),
                    AMT_ERR_XML_ENCODING); /* U+FFFF */
    CU_ASSERT_EQUAL(xmlsafe_check_text("\xc0\x80"), AMT_ERR_XML_ENCODING);
    CU_ASSERT_EQUAL(xmlsafe_check_text(NULL), AMT_ERR_INVALID_ARGUMENT);
}

static void
test_ns_declarable(void)
{
    CU_ASSERT_TRUE(
        xmlsafe_ns_declarable("http://intel.com/wbem/wscim/1/amt-schema/1/AMT_X"));
    CU_ASSERT_TRUE(xmlsafe_ns_declarable("urn:x"));
    CU_ASSERT_FALSE(xmlsafe_ns_declarable("urn:a b"));
    CU_ASSERT_FALSE(xmlsafe_ns_declarable("urn:a\tb"));
    CU_ASSERT_FALSE(xmlsafe_ns_declarable("urn:a&b"));
    CU_ASSERT_FALSE(xmlsafe_ns_declarable("urn:a\"b"));
    CU_ASSERT_FALSE(xmlsafe_ns_declarable("urn:caf\xc3\xa9"));
    CU_ASSERT_FALSE(xmlsafe_ns_declarable("http://x/%zz"));
    CU_ASSERT_FALSE(xmlsafe_ns_declarable("http://www.w3.org/XML/1998/namespace"));
    CU_ASSERT_FALSE(xmlsafe_ns_declarable("http://www.w3.org/2000/xmlns/"));
    CU_ASSERT_FALSE(xmlsafe_ns_declarable(""));
    CU_ASSERT_FALSE(xmlsafe_ns_declarable(NULL));
}

static void
test_build(void)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0"), back = NULL;
    xmlNodePtr root = xmlNewDocNode(doc, NULL, (const xmlChar *)"r", NULL), a, b, c, d;
    xmlNsPtr ns = xmlNewNs(root, (const xmlChar *)"urn:r", (const xmlChar *)"n1");
    char *text = NULL, buf[64];
    size_t len = 0;

    xmlSetNs(root, ns);
    xmlDocSetRootElement(doc, root);
    CU_ASSERT_EQUAL(xmlsafe_add_child(root, NULL, "a", "<&\"'>", &a), 0);
    CU_ASSERT_STRING_EQUAL(xmlsafe_ns(a), "urn:r");
    CU_ASSERT_EQUAL(xmlsafe_add_child(root, "urn:other", "b", NULL, &b), 0);
    CU_ASSERT_EQUAL(xmlsafe_add_child(b, "urn:other", "c", "1", &c), 0);
    CU_ASSERT_PTR_EQUAL(c->ns, b->ns); /* reused, not declared again */
    CU_ASSERT_EQUAL(xmlsafe_add_child(root, "", "d", "x", &d), 0);
    CU_ASSERT_PTR_NULL(xmlsafe_ns(d));
    CU_ASSERT_EQUAL(xmlsafe_add_child(root, NULL, "bad name", "x", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(xmlsafe_add_child(root, NULL, "p:q", "x", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(xmlsafe_add_child(root, NULL, "e", "\x01", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(xmlsafe_add_child(root, "\xff", "e", "x", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(xmlsafe_add_child(root, "urn:a&b", "e", "x", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(xmlsafe_add_child(NULL, NULL, "e", "x", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(xmlsafe_serialize(doc, &text, &len), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(strlen(text), len);
    /* The other namespace got a prefix that does not hide n1. */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "xmlns:n2=\"urn:other\""));
    CU_ASSERT_EQUAL_FATAL(xmlsafe_parse(text, len, NULL, &back), 0);
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(xmlDocGetRootElement(back), "urn:r", "a"),
                                 buf, sizeof(buf)),
                    0);
    CU_ASSERT_STRING_EQUAL(buf, "<&\"'>");
    CU_ASSERT_TRUE(
        xmlsafe_is(xmlsafe_child(xmlDocGetRootElement(back), "", NULL), "", "d"));
    free(text);
    CU_ASSERT_EQUAL(xmlsafe_serialize(NULL, &text, &len), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(text);
    xmlFreeDoc(back);
    xmlFreeDoc(doc);
}

static void
test_build_no_namespace_under_default(void)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr root = xmlNewDocNode(doc, NULL, (const xmlChar *)"r", NULL);

    xmlSetNs(root, xmlNewNs(root, (const xmlChar *)"urn:r", NULL));
    xmlDocSetRootElement(doc, root);
    /* It would silently land in urn:r. */
    CU_ASSERT_EQUAL(xmlsafe_add_child(root, "", "a", "x", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    xmlFreeDoc(doc);
}

static CU_TestInfo parse_tests[] = {
    {"valid SOAP envelope", test_valid_envelope},
    {"billion laughs", test_billion_laughs},
    {"external entity", test_external_entity},
    {"external DTD", test_external_dtd},
    {"parameter entities", test_parameter_entities},
    {"entity reference without DTD", test_entity_reference},
    {"predefined entities and character references", test_predefined_entities},
    {"XInclude is not processed", test_xinclude_not_processed},
    {"depth at and over the default cap", test_depth_default_cap},
    {"depth at and over a custom cap", test_depth_custom_cap},
    {"size at and over the default cap", test_size_default_cap},
    {"size at and over a custom cap", test_size_custom_cap},
    {"invalid UTF-8", test_invalid_utf8},
    {"encoding declarations", test_encoding_declaration},
    {"malformed", test_malformed},
    {"bad arguments", test_bad_arguments},
    {"nothing on stderr", test_silent},
    {"threads", test_threads},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo helper_tests[] = {
    {"find elements", test_find},
    {"element text", test_text},
    {"check text", test_check_text},
    {"declarable namespaces", test_ns_declarable},
    {"build and serialize", test_build},
    {"no namespace under a default one", test_build_no_namespace_under_default},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"xmlsafe parse", NULL, NULL, NULL, NULL, parse_tests},
    {"xmlsafe helpers", NULL, NULL, NULL, NULL, helper_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_xmlsafe", suites);
}
