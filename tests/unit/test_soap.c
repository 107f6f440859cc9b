/*
 * SOAP 1.1: requests, replies and faults survive a build, serialize, parse round
 * trip; values are escaped; the status comes first; bad envelopes are refused.
 */
#include "err.h"
#include "soap.h"
#include "unit.h"
#include "xmlsafe.h"

#include <stdlib.h>
#include <string.h>

#define SECADMIN_NS                                                                      \
    "http://schemas.intel.com/platform/client/SecurityAdministration/2004/01"

/* Serializes m, frees it, and parses the text back. */
static xmlDocPtr
reparse(struct soap_msg *m, char **keep_text)
{
    char *text = NULL;
    size_t len = 0;
    xmlDocPtr doc = NULL;

    CU_ASSERT_EQUAL_FATAL(soap_msg_text(m, &text, &len), 0);
    soap_msg_free(m);
    CU_ASSERT_EQUAL(xmlsafe_parse(text, len, NULL, &doc), 0);
    if (keep_text != NULL)
        *keep_text = text;
    else
        free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    return doc;
}

static xmlDocPtr
parse_text(const char *s)
{
    xmlDocPtr doc = NULL;

    CU_ASSERT_EQUAL_FATAL(xmlsafe_parse(s, strlen(s), NULL, &doc), 0);
    return doc;
}

static void
test_service_names(void)
{
    char buf[128], tiny[8];

    CU_ASSERT_EQUAL(soap_service_ns("SecurityAdministration", NULL, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, SECADMIN_NS);
    CU_ASSERT_EQUAL(soap_service_ns("GeneralInfo", "2006/01", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(
        buf, "http://schemas.intel.com/platform/client/GeneralInfo/2006/01");
    CU_ASSERT_EQUAL(soap_service_ns("Bad Name", NULL, buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_service_ns("", NULL, buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_service_ns(NULL, NULL, buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_service_ns("X", "2004/01\"", buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_service_ns("X", "", buf, sizeof(buf)), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_service_ns("X", NULL, tiny, sizeof(tiny)), AMT_ERR_TOO_LARGE);

    CU_ASSERT_EQUAL(soap_service_path("RemoteControl", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "/RemoteControlService");
    CU_ASSERT_EQUAL(soap_service_path("../x", buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_service_path("RemoteControl", tiny, sizeof(tiny)),
                    AMT_ERR_TOO_LARGE);

    CU_ASSERT_EQUAL(soap_action(SECADMIN_NS, "GetCoreVersion", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "\"" SECADMIN_NS "#GetCoreVersion\"");
    CU_ASSERT_EQUAL(soap_action(SECADMIN_NS, "Get Core", buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_action("a\"b", "M", buf, sizeof(buf)), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_action("", "M", buf, sizeof(buf)), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_action(SECADMIN_NS, "M", tiny, sizeof(tiny)), AMT_ERR_TOO_LARGE);
}

static void
test_status_names(void)
{
    CU_ASSERT_STRING_EQUAL(soap_status_name(SOAP_STATUS_SUCCESS), "SUCCESS");
    CU_ASSERT_STRING_EQUAL(soap_status_name(0x1), "INTERNAL_ERROR");
    CU_ASSERT_STRING_EQUAL(soap_status_name(0x10), "NOT_PERMITTED");
    CU_ASSERT_STRING_EQUAL(soap_status_name(0x20), "INVALID_PROVISIONING_STATE");
    CU_ASSERT_STRING_EQUAL(soap_status_name(0x24), "INVALID_PARAMETER");
    CU_ASSERT_STRING_EQUAL(soap_status_name(0x806), "INVALID_PASSWORD");
    CU_ASSERT_STRING_EQUAL(soap_status_name(0x80f), "INVALID_CERT");
    CU_ASSERT_STRING_EQUAL(soap_status_name(0x812), "UNSUPPORTED");
    CU_ASSERT_STRING_EQUAL(soap_status_name(0x815), "INVALID_CREDENTIALS");
    CU_ASSERT_STRING_EQUAL(soap_status_name(0x2), "UNKNOWN");
}

static void
test_request_round_trip(void)
{
    struct soap_msg *m = NULL;
    struct soap_call call;
    xmlNodePtr cert = NULL, nested;
    xmlDocPtr doc;
    char buf[64], action[256];

    CU_ASSERT_EQUAL_FATAL(soap_request_new(SECADMIN_NS, "SetAdminAclEntryEx", &m), 0);
    CU_ASSERT_STRING_EQUAL(soap_msg_action(m), "\"" SECADMIN_NS "#SetAdminAclEntryEx\"");
    snprintf(action, sizeof(action), "%s", soap_msg_action(m));
    CU_ASSERT_EQUAL(soap_msg_add(m, NULL, "Username", "admin", NULL), 0);
    CU_ASSERT_EQUAL(soap_msg_add(m, NULL, "DigestPassword", "0123abcd", NULL), 0);
    CU_ASSERT_EQUAL(soap_msg_add(m, NULL, "Certificate", NULL, &cert), 0);
    CU_ASSERT_EQUAL(soap_msg_add(m, cert, "Thumbprint", "ab:cd", NULL), 0);
    doc = reparse(m, NULL);

    CU_ASSERT_EQUAL_FATAL(soap_call_parse(doc, &call), 0);
    CU_ASSERT_STRING_EQUAL(call.name, "SetAdminAclEntryEx");
    CU_ASSERT_STRING_EQUAL(call.ns, SECADMIN_NS);
    CU_ASSERT_TRUE(soap_call_action_matches(&call, action));
    CU_ASSERT_EQUAL(soap_call_param_text(&call, "Username", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "admin");
    CU_ASSERT_EQUAL(soap_call_param_text(&call, "DigestPassword", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "0123abcd");
    nested =
        xmlsafe_child(soap_call_param(&call, "Certificate"), SECADMIN_NS, "Thumbprint");
    CU_ASSERT_EQUAL(xmlsafe_text(nested, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "ab:cd");
    CU_ASSERT_EQUAL(soap_call_param_text(&call, "Missing", buf, sizeof(buf)),
                    AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(soap_call_param_text(&call, "Username", buf, 3), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(soap_call_param_text(&call, "Username", buf, 0),
                    AMT_ERR_INVALID_ARGUMENT);
    xmlFreeDoc(doc);
}

static void
test_escaping(void)
{
    static const char *const values[] = {
        "<&\"", "a]]>b", "it's", "&amp;", "<![CDATA[x]]>", "tab\there", "cr\rlf\n",
    };
    struct soap_msg *m = NULL;
    struct soap_call call;
    char *text = NULL, buf[64], name[8];
    xmlDocPtr doc;
    size_t n = sizeof(values) / sizeof(values[0]);

    CU_ASSERT_EQUAL_FATAL(soap_request_new(SECADMIN_NS, "SetHostName", &m), 0);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "P%zu", i);
        CU_ASSERT_EQUAL(soap_msg_add(m, NULL, name, values[i], NULL), 0);
    }
    doc = reparse(m, &text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "<P0>&lt;&amp;\"</P0>"));
    CU_ASSERT_PTR_NULL(strstr(text, "<&"));
    CU_ASSERT_EQUAL_FATAL(soap_call_parse(doc, &call), 0);
    for (size_t i = 0; i < n; i++) {
        xmlChar *raw;

        snprintf(name, sizeof(name), "P%zu", i);
        /* Untrimmed, so that white space round trips too. */
        raw = xmlNodeGetContent(soap_call_param(&call, name));
        CU_ASSERT_STRING_EQUAL((const char *)raw, values[i]);
        xmlFree(raw);
    }
    CU_ASSERT_EQUAL(soap_call_param_text(&call, "P0", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "<&\"");
    free(text);
    xmlFreeDoc(doc);
}

static void
test_builder_refusals(void)
{
    struct soap_msg *m = NULL, *other = NULL, *fault = NULL;
    xmlNodePtr foreign = NULL, out = (xmlNodePtr)1;

    CU_ASSERT_EQUAL(soap_request_new(SECADMIN_NS, "Bad Method", &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_EQUAL(soap_request_new("", "M", &m), AMT_ERR_INVALID_ARGUMENT);
    /* libxml2 would write these namespace names unescaped. */
    CU_ASSERT_EQUAL(soap_request_new("urn:a&b", "M", &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_request_new("urn:\"x\"", "M", &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_request_new(NULL, "M", &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_request_new(SECADMIN_NS, "M", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_response_new(SECADMIN_NS, "1x", 0, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_response_new(SECADMIN_NS, NULL, 0, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_response_new("\x01", "M", 0, &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_response_new(SECADMIN_NS, "M", 0, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_fault_new(SOAP_FAULT_NONE, "x", &fault),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_fault_new(SOAP_FAULT_OTHER, "x", &fault),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_fault_new(SOAP_FAULT_CLIENT, NULL, &fault),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_fault_new(SOAP_FAULT_CLIENT, "\x02", &fault),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_fault_new(SOAP_FAULT_CLIENT, "x", NULL),
                    AMT_ERR_INVALID_ARGUMENT);

    CU_ASSERT_EQUAL_FATAL(soap_request_new(SECADMIN_NS, "M", &m), 0);
    CU_ASSERT_EQUAL_FATAL(soap_request_new(SECADMIN_NS, "N", &other), 0);
    CU_ASSERT_EQUAL_FATAL(soap_msg_add(other, NULL, "X", NULL, &foreign), 0);
    CU_ASSERT_EQUAL(soap_msg_add(m, foreign, "Y", "1", &out), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(out);
    CU_ASSERT_EQUAL(soap_msg_add(m, NULL, "Y", "bell\x07", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_msg_add(m, NULL, "Y", "\xc3", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_msg_add(m, NULL, "a:b", "1", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_msg_add(NULL, NULL, "Y", "1", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL_FATAL(soap_fault_new(SOAP_FAULT_SERVER, "x", &fault), 0);
    CU_ASSERT_EQUAL(soap_msg_add(fault, NULL, "Y", "1", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(soap_msg_action(fault));
    CU_ASSERT_PTR_NULL(soap_msg_action(NULL));
    CU_ASSERT_EQUAL(soap_msg_text(NULL, NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    soap_msg_free(m);
    soap_msg_free(other);
    soap_msg_free(fault);
    soap_msg_free(NULL);
}

static void
test_response_status_first(void)
{
    struct soap_msg *m = NULL;
    struct soap_reply reply;
    char *text = NULL, buf[32];
    xmlDocPtr doc;

    CU_ASSERT_EQUAL_FATAL(soap_response_new(SECADMIN_NS, "GetCoreVersion", 0, &m), 0);
    CU_ASSERT_PTR_NULL(soap_msg_action(m));
    CU_ASSERT_EQUAL(soap_msg_add(m, NULL, "Version", "7.1.20", NULL), 0);
    CU_ASSERT_EQUAL(soap_msg_add(m, NULL, "Extra", "x", NULL), 0);
    doc = reparse(m, &text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text,
                                  "<GetCoreVersionResponse xmlns=\"" SECADMIN_NS "\">"
                                  "<StatusCode>0</StatusCode><Version>"));

    CU_ASSERT_EQUAL_FATAL(soap_reply_parse(doc, SECADMIN_NS, "GetCoreVersion", &reply),
                          0);
    CU_ASSERT_EQUAL(reply.status, SOAP_STATUS_SUCCESS);
    CU_ASSERT_EQUAL(reply.fault, SOAP_FAULT_NONE);
    CU_ASSERT_TRUE(xmlsafe_is(soap_reply_get_at(&reply, 0), SECADMIN_NS, "StatusCode"));
    CU_ASSERT_TRUE(xmlsafe_is(soap_reply_get_at(&reply, 1), SECADMIN_NS, "Version"));
    CU_ASSERT_TRUE(xmlsafe_is(soap_reply_get_at(&reply, 2), SECADMIN_NS, "Extra"));
    CU_ASSERT_PTR_NULL(soap_reply_get_at(&reply, 3));
    CU_ASSERT_EQUAL(xmlsafe_text(soap_reply_get(&reply, "Version"), buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "7.1.20");
    CU_ASSERT_PTR_NULL(soap_reply_get(&reply, "Missing"));
    CU_ASSERT_PTR_NULL(soap_reply_get(NULL, "Version"));
    CU_ASSERT_PTR_NULL(soap_reply_get_at(NULL, 0));
    /* Either expectation may be left out. */
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, NULL, &reply), 0);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, "GetCore", &reply), AMT_ERR_SOAP_MESSAGE);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, "GetCoreVersionX", &reply),
                    AMT_ERR_SOAP_MESSAGE);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, "urn:other", NULL, &reply),
                    AMT_ERR_SOAP_MESSAGE);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    free(text);
    xmlFreeDoc(doc);
}

static void
test_response_error_status(void)
{
    struct soap_msg *m = NULL;
    struct soap_reply reply;
    xmlDocPtr doc;

    CU_ASSERT_EQUAL_FATAL(soap_response_new(SECADMIN_NS, "SetMEBxPassword",
                                            SOAP_STATUS_INVALID_PASSWORD, &m),
                          0);
    doc = reparse(m, NULL);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, SECADMIN_NS, "SetMEBxPassword", &reply), 0);
    CU_ASSERT_EQUAL(reply.status, 0x806);
    CU_ASSERT_STRING_EQUAL(soap_status_name(reply.status), "INVALID_PASSWORD");
    xmlFreeDoc(doc);
}

/* A reply as amttool reads it: by position, whatever the first element is called. */
static void
test_reply_by_position(void)
{
    static const char text[] =
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">"
        "<SOAP-ENV:Header/><SOAP-ENV:Body>"
        "<r:GetSystemPowerStateResponse xmlns:r=\"urn:rc\">"
        "<r:Status> 16 </r:Status><r:SystemPowerState>0</r:SystemPowerState>"
        "</r:GetSystemPowerStateResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>";
    static const char not_number[] =
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
        "<XResponse><StatusCode>zero</StatusCode></XResponse></s:Body></s:Envelope>";
    static const char no_status[] =
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
        "<XResponse/></s:Body></s:Envelope>";
    static const char empty_body[] =
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
        "</s:Body></s:Envelope>";
    struct soap_reply reply;
    xmlDocPtr doc = parse_text(text);

    CU_ASSERT_EQUAL(soap_reply_parse(doc, "urn:rc", "GetSystemPowerState", &reply), 0);
    CU_ASSERT_EQUAL(reply.status, SOAP_STATUS_NOT_PERMITTED);
    xmlFreeDoc(doc);
    doc = parse_text(not_number);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, "X", &reply), AMT_ERR_SOAP_MESSAGE);
    CU_ASSERT_PTR_NULL(reply.response);
    xmlFreeDoc(doc);
    doc = parse_text(no_status);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, "X", &reply), AMT_ERR_SOAP_MESSAGE);
    xmlFreeDoc(doc);
    doc = parse_text(empty_body);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, NULL, &reply), AMT_ERR_SOAP_MESSAGE);
    xmlFreeDoc(doc);
}

static void
test_fault_round_trip(void)
{
    static const struct {
        enum soap_fault_code code;
        const char *text;
    } cases[] = {
        {SOAP_FAULT_CLIENT, "soap:Client"},
        {SOAP_FAULT_SERVER, "soap:Server"},
        {SOAP_FAULT_VERSION_MISMATCH, "soap:VersionMismatch"},
        {SOAP_FAULT_MUST_UNDERSTAND, "soap:MustUnderstand"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct soap_msg *m = NULL;
        struct soap_reply reply;
        xmlDocPtr doc;

        CU_ASSERT_EQUAL_FATAL(soap_fault_new(cases[i].code, "no <such> method & co", &m),
                              0);
        doc = reparse(m, NULL);
        CU_ASSERT_EQUAL(soap_reply_parse(doc, SECADMIN_NS, "M", &reply),
                        AMT_ERR_SOAP_FAULT);
        CU_ASSERT_EQUAL(reply.fault, cases[i].code);
        CU_ASSERT_STRING_EQUAL(reply.faultcode, cases[i].text);
        CU_ASSERT_STRING_EQUAL(reply.faultstring, "no <such> method & co");
        CU_ASSERT_PTR_NULL(reply.response);
        xmlFreeDoc(doc);
    }
}

static void
test_fault_codes_as_written(void)
{
    static const char dotted[] =
        "<E:Envelope "
        "xmlns:E=\"http://schemas.xmlsoap.org/soap/envelope/\"><E:Body><E:Fault>"
        "<faultcode>E:Client.Authentication</faultcode><faultstring>no</faultstring>"
        "</E:Fault></E:Body></E:Envelope>";
    static const char foreign[] =
        "<E:Envelope xmlns:E=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        "xmlns:x=\"urn:x\">"
        "<E:Body><E:Fault><faultcode>x:Client</faultcode></E:Fault></E:Body></"
        "E:Envelope>";
    static const char unprefixed[] =
        "<Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\"><Body><Fault>"
        "<faultcode xmlns=\"\">Server</faultcode></Fault></Body></Envelope>";
    static const char bare[] =
        "<E:Envelope xmlns:E=\"http://schemas.xmlsoap.org/soap/envelope/\"><E:Body>"
        "<E:Fault/></E:Body></E:Envelope>";
    static const char unknown[] =
        "<E:Envelope "
        "xmlns:E=\"http://schemas.xmlsoap.org/soap/envelope/\"><E:Body><E:Fault>"
        "<faultcode>E:Clientele</faultcode></E:Fault></E:Body></E:Envelope>";
    struct soap_reply reply;
    xmlDocPtr doc;

    doc = parse_text(dotted);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, NULL, &reply), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, SOAP_FAULT_CLIENT);
    CU_ASSERT_STRING_EQUAL(reply.faultcode, "E:Client.Authentication");
    xmlFreeDoc(doc);
    doc = parse_text(foreign);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, NULL, &reply), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, SOAP_FAULT_OTHER);
    CU_ASSERT_STRING_EQUAL(reply.faultstring, "");
    xmlFreeDoc(doc);
    doc = parse_text(unprefixed);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, NULL, &reply), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, SOAP_FAULT_OTHER); /* no namespace: not SOAP's Server */
    xmlFreeDoc(doc);
    doc = parse_text(bare);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, NULL, &reply), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, SOAP_FAULT_OTHER);
    CU_ASSERT_STRING_EQUAL(reply.faultcode, "");
    xmlFreeDoc(doc);
    doc = parse_text(unknown);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, NULL, &reply), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, SOAP_FAULT_OTHER);
    xmlFreeDoc(doc);
}

static void
test_long_faultstring_is_cut(void)
{
    char long_text[600];
    struct soap_msg *m = NULL;
    struct soap_reply reply;
    xmlDocPtr doc;

    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    CU_ASSERT_EQUAL_FATAL(soap_fault_new(SOAP_FAULT_SERVER, long_text, &m), 0);
    doc = reparse(m, NULL);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, NULL, &reply), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(strlen(reply.faultstring), SOAP_FAULTSTRING_MAX - 1);
    xmlFreeDoc(doc);
}

static void
test_wrong_envelope_namespace(void)
{
    static const char soap12[] =
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>"
        "<M xmlns=\"urn:x\"/></s:Body></s:Envelope>";
    static const char unqualified[] =
        "<Envelope><Body><M xmlns=\"urn:x\"/></Body></Envelope>";
    struct soap_call call;
    struct soap_reply reply;
    xmlDocPtr doc;

    doc = parse_text(soap12);
    CU_ASSERT_EQUAL(soap_call_parse(doc, &call), AMT_ERR_SOAP_ENVELOPE);
    CU_ASSERT_PTR_NULL(call.method);
    CU_ASSERT_EQUAL(soap_reply_parse(doc, NULL, NULL, &reply), AMT_ERR_SOAP_ENVELOPE);
    /* The same document is fine for the SOAP 1.2 check. */
    CU_ASSERT_EQUAL(soap_envelope(doc, SOAP12_ENV_NS, NULL, NULL), 0);
    xmlFreeDoc(doc);
    doc = parse_text(unqualified);
    CU_ASSERT_EQUAL(soap_call_parse(doc, &call), AMT_ERR_SOAP_ENVELOPE);
    xmlFreeDoc(doc);
}

static void
test_missing_body(void)
{
    static const char *const bad[] = {
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"/>",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header/>"
        "</s:Envelope>",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header/>"
        "<s:Other/><s:Body/></s:Envelope>",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><Body/>"
        "</s:Envelope>",
        "<s:Body xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"/>",
    };
    struct soap_call call;
    xmlNodePtr header = (xmlNodePtr)1, body = (xmlNodePtr)1;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        xmlDocPtr doc = parse_text(bad[i]);

        CU_ASSERT_EQUAL(soap_call_parse(doc, &call), AMT_ERR_SOAP_ENVELOPE);
        CU_ASSERT_EQUAL(soap_envelope(doc, SOAP11_ENV_NS, &header, &body),
                        AMT_ERR_SOAP_ENVELOPE);
        CU_ASSERT_PTR_NULL(header);
        CU_ASSERT_PTR_NULL(body);
        xmlFreeDoc(doc);
    }
    CU_ASSERT_EQUAL(soap_envelope(NULL, SOAP11_ENV_NS, NULL, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(soap_call_parse(NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
}

static void
test_request_body_shapes(void)
{
    static const char *const bad[] = {
        /* empty Body */
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body> "
        "</s:Body></s:Envelope>",
        /* two methods */
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
        "<M xmlns=\"urn:x\"/><N xmlns=\"urn:x\"/></s:Body></s:Envelope>",
        /* a fault is not a request */
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
        "<s:Fault/></s:Body></s:Envelope>",
    };
    struct soap_call call;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        xmlDocPtr doc = parse_text(bad[i]);

        CU_ASSERT_EQUAL(soap_call_parse(doc, &call), AMT_ERR_SOAP_MESSAGE);
        xmlFreeDoc(doc);
    }
}

/* What amttool (SOAP::Lite) sends: unqualified, typed parameters under namesp1. */
static void
test_unqualified_parameters(void)
{
    static const char text[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<soap:Envelope xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        "xmlns:soapenc=\"http://schemas.xmlsoap.org/soap/encoding/\" "
        "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
        "soap:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\" "
        "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
        "<namesp1:RemoteControl xmlns:namesp1=\"http://schemas.intel.com/platform/client/"
        "RemoteControl/2004/01\">"
        "<Command xsi:type=\"xsd:int\">16</Command><IanaOemNumber "
        "xsi:type=\"xsd:int\">343"
        "</IanaOemNumber><x:Command xmlns:x=\"urn:elsewhere\">99</x:Command>"
        "</namesp1:RemoteControl></soap:Body></soap:Envelope>";
    struct soap_call call;
    xmlDocPtr doc = parse_text(text);
    char buf[16];
    uint32_t v = 0;

    CU_ASSERT_EQUAL_FATAL(soap_call_parse(doc, &call), 0);
    CU_ASSERT_STRING_EQUAL(call.name, "RemoteControl");
    CU_ASSERT_EQUAL(soap_call_param_text(&call, "Command", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "16");
    CU_ASSERT_EQUAL(xmlsafe_text_u32(soap_call_param(&call, "IanaOemNumber"), &v), 0);
    CU_ASSERT_EQUAL(v, 343);
    CU_ASSERT_TRUE(soap_call_action_matches(
        &call,
        "http://schemas.intel.com/platform/client/RemoteControl/2004/01#RemoteControl"));
    CU_ASSERT_FALSE(soap_call_action_matches(
        &call,
        "\"http://schemas.intel.com/platform/client/RemoteControl/2004/01#Remote\""));
    CU_ASSERT_FALSE(soap_call_action_matches(
        &call, "\"http://schemas.intel.com/platform/client/RemoteControl/2004/02#"
               "RemoteControl\""));
    CU_ASSERT_FALSE(soap_call_action_matches(&call, "\"\""));
    CU_ASSERT_FALSE(soap_call_action_matches(&call, NULL));
    CU_ASSERT_PTR_NULL(soap_call_param(&call, NULL));
    CU_ASSERT_PTR_NULL(soap_call_param(NULL, "Command"));
    xmlFreeDoc(doc);
}

/* A method in no namespace: found, but it can match no SOAPAction. */
static void
test_method_without_namespace(void)
{
    static const char text[] =
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
        "<M><q:P xmlns:q=\"urn:q\">2</q:P><P>1</P></M></s:Body></s:Envelope>";
    struct soap_call call;
    xmlDocPtr doc = parse_text(text);
    char buf[8];

    CU_ASSERT_EQUAL_FATAL(soap_call_parse(doc, &call), 0);
    CU_ASSERT_PTR_NULL(call.ns);
    CU_ASSERT_FALSE(soap_call_action_matches(&call, "#M"));
    CU_ASSERT_EQUAL(soap_call_param_text(&call, "P", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "1");
    xmlFreeDoc(doc);
}

static CU_TestInfo soap_tests[] = {
    {"service names", test_service_names},
    {"status names", test_status_names},
    {"request round trip", test_request_round_trip},
    {"escaping", test_escaping},
    {"builder refusals", test_builder_refusals},
    {"response with status first", test_response_status_first},
    {"response with an error status", test_response_error_status},
    {"reply read by position", test_reply_by_position},
    {"fault round trip", test_fault_round_trip},
    {"fault codes as written", test_fault_codes_as_written},
    {"long faultstring is cut", test_long_faultstring_is_cut},
    {"wrong envelope namespace", test_wrong_envelope_namespace},
    {"missing Body", test_missing_body},
    {"request body shapes", test_request_body_shapes},
    {"unqualified parameters", test_unqualified_parameters},
    {"method without namespace", test_method_without_namespace},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"soap", NULL, NULL, NULL, NULL, soap_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_soap", suites);
}
