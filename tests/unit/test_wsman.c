/*
 * WS-Management: each request kind and its reply survive a build, serialize,
 * parse round trip; missing headers, bad selectors and bodies that do not fit are
 * refused with the fault to answer; every DSP0226 fault round trips.
 */
#include "err.h"
#include "unit.h"
#include "wsman.h"
#include "xmlsafe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TO "http://192.168.0.10:16992/wsman"
#define GENERAL_SETTINGS WSMAN_AMT_URI_PREFIX "AMT_GeneralSettings"
#define PKMS WSMAN_AMT_URI_PREFIX "AMT_PublicKeyManagementService"
#define CERT WSMAN_AMT_URI_PREFIX "AMT_PublicKeyCertificate"

/* Serializes m (keeping the text if asked), frees it, and parses the text back. */
static xmlDocPtr
reparse(struct wsman_msg *m, char **keep_text)
{
    char *text = NULL;
    size_t len = 0;
    xmlDocPtr doc = NULL;

    CU_ASSERT_EQUAL_FATAL(wsman_msg_text(m, &text, &len), 0);
    wsman_msg_free(m);
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

/* Builds and parses a request as the service would see it. */
static xmlDocPtr
call_of(struct wsman_msg *m, struct wsman_call *call, char *id, size_t id_size)
{
    xmlDocPtr doc;

    snprintf(id, id_size, "%s", wsman_msg_message_id(m));
    doc = reparse(m, NULL);
    CU_ASSERT_EQUAL_FATAL(wsman_call_parse(doc, call, NULL, 0), 0);
    CU_ASSERT_STRING_EQUAL(call->message_id, id);
    CU_ASSERT_EQUAL(call->fault, WSMAN_FAULT_NONE);
    return doc;
}

static void
test_class_uri(void)
{
    char buf[128], tiny[16];

    CU_ASSERT_EQUAL(wsman_class_uri("AMT_GeneralSettings", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(
        buf, "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings");
    CU_ASSERT_EQUAL(wsman_class_uri("CIM_WiFiEndpointSettings", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(
        buf,
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_WiFiEndpointSettings");
    CU_ASSERT_EQUAL(wsman_class_uri("IPS_HostBasedSetupService", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(
        buf, "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_HostBasedSetupService");
    CU_ASSERT_EQUAL(wsman_class_uri("XYZ_Thing", buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_class_uri("AMT_", buf, sizeof(buf)), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_class_uri("AMT_a/b", buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_class_uri("AMT_a.b", buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_class_uri(NULL, buf, sizeof(buf)), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_class_uri("AMT_GeneralSettings", tiny, sizeof(tiny)),
                    AMT_ERR_TOO_LARGE);

    CU_ASSERT_STRING_EQUAL(wsman_class_name(GENERAL_SETTINGS), "AMT_GeneralSettings");
    CU_ASSERT_PTR_NULL(wsman_class_name("http://x/"));
    CU_ASSERT_PTR_NULL(wsman_class_name("noslash"));
    CU_ASSERT_PTR_NULL(wsman_class_name(NULL));
}

static void
test_message_id(void)
{
    char a[WSMAN_MESSAGE_ID_LEN + 1], b[WSMAN_MESSAGE_ID_LEN + 1];

    CU_ASSERT_EQUAL_FATAL(wsman_message_id(a, sizeof(a)), 0);
    CU_ASSERT_EQUAL_FATAL(wsman_message_id(b, sizeof(b)), 0);
    CU_ASSERT_EQUAL(strlen(a), WSMAN_MESSAGE_ID_LEN);
    CU_ASSERT_EQUAL(strncmp(a, "uuid:", 5), 0);
    CU_ASSERT_EQUAL(a[5 + 14], '4');
    CU_ASSERT_PTR_NOT_NULL(strchr("89ab", a[5 + 19]));
    CU_ASSERT_EQUAL(a[5 + 8], '-');
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    CU_ASSERT_EQUAL(wsman_message_id(a, WSMAN_MESSAGE_ID_LEN), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(wsman_message_id(NULL, 64), AMT_ERR_INVALID_ARGUMENT);
}

static void
test_fault_table(void)
{
    CU_ASSERT_STRING_EQUAL(wsman_fault_name(WSMAN_FAULT_INVALID_SELECTORS),
                           "wsman:InvalidSelectors");
    CU_ASSERT_STRING_EQUAL(wsman_fault_action(WSMAN_FAULT_INVALID_SELECTORS),
                           WSMAN_FAULT_ACTION_WSMAN);
    CU_ASSERT_STRING_EQUAL(wsman_fault_name(WSMAN_FAULT_DESTINATION_UNREACHABLE),
                           "wsa:DestinationUnreachable");
    CU_ASSERT_STRING_EQUAL(wsman_fault_action(WSMAN_FAULT_ACTION_NOT_SUPPORTED),
                           "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault");
    CU_ASSERT_STRING_EQUAL(wsman_fault_action(WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT),
                           "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault");
    CU_ASSERT_PTR_NULL(wsman_fault_name(WSMAN_FAULT_NONE));
    CU_ASSERT_PTR_NULL(wsman_fault_name(WSMAN_FAULT_OTHER));
    CU_ASSERT_PTR_NULL(wsman_fault_action(WSMAN_FAULT_OTHER));
}

static void
test_get_round_trip(void)
{
    struct wsman_msg *m = NULL;
    struct wsman_call call;
    struct wsman_reply reply;
    char id[64], *text = NULL, buf[64];
    xmlDocPtr doc, rdoc;

    CU_ASSERT_EQUAL_FATAL(wsman_request_new(WSMAN_GET, TO, GENERAL_SETTINGS, NULL, &m),
                          0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), WSMAN_ACTION_GET);
    snprintf(id, sizeof(id), "%s", wsman_msg_message_id(m));
    doc = reparse(m, &text);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(text, ">" WSMAN_OPERATION_TIMEOUT "</w:OperationTimeout>"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(text, "<a:ReplyTo><a:Address s:mustUnderstand=\"true\">" WSMAN_ANONYMOUS
                     "</a:Address></a:ReplyTo>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "<a:Action s:mustUnderstand=\"true\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "<a:MessageID>uuid:"));
    CU_ASSERT_PTR_NULL(strstr(text, "SelectorSet"));
    free(text);

    CU_ASSERT_EQUAL_FATAL(wsman_call_parse(doc, &call, NULL, 0), 0);
    CU_ASSERT_EQUAL(call.kind, WSMAN_GET);
    CU_ASSERT_STRING_EQUAL(call.action, WSMAN_ACTION_GET);
    CU_ASSERT_STRING_EQUAL(call.to, TO);
    CU_ASSERT_STRING_EQUAL(call.resource_uri, GENERAL_SETTINGS);
    CU_ASSERT_STRING_EQUAL(call.message_id, id);
    CU_ASSERT_EQUAL(call.selector_count, 0);
    CU_ASSERT_PTR_NULL(call.body);

    CU_ASSERT_EQUAL_FATAL(wsman_response_new(&call, &m), 0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), WSMAN_ACTION_GET_RESPONSE);
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "DigestRealm", "Digest:0123", NULL), 0);
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "HostName", "pc<&>1", NULL), 0);
    xmlFreeDoc(doc);
    rdoc = reparse(m, NULL);
    CU_ASSERT_EQUAL_FATAL(wsman_reply_parse(rdoc, &reply, NULL, 0), 0);
    CU_ASSERT_EQUAL(reply.kind, WSMAN_GET);
    CU_ASSERT_STRING_EQUAL(reply.relates_to, id);
    CU_ASSERT_STRING_EQUAL(reply.action, WSMAN_ACTION_GET_RESPONSE);
    CU_ASSERT_EQUAL(strncmp(reply.message_id, "uuid:", 5), 0);
    CU_ASSERT_TRUE(xmlsafe_is(reply.instance, GENERAL_SETTINGS, "AMT_GeneralSettings"));
    CU_ASSERT_EQUAL(
        xmlsafe_text(xmlsafe_child(reply.instance, GENERAL_SETTINGS, "HostName"), buf,
                     sizeof(buf)),
        0);
    CU_ASSERT_STRING_EQUAL(buf, "pc<&>1");
    xmlFreeDoc(rdoc);
}

static void
test_selectors(void)
{
    char big[WSMAN_VALUE_MAX + 1];
    struct wsman_msg *m = NULL;
    struct wsman_call call;
    char id[64];
    xmlDocPtr doc;

    CU_ASSERT_EQUAL_FATAL(wsman_request_new(WSMAN_GET, TO, CERT, NULL, &m), 0);
    CU_ASSERT_EQUAL(
        wsman_msg_selector(m, "InstanceID", "Intel(r) AMT Certificate: Handle: 0"), 0);
    CU_ASSERT_EQUAL(wsman_msg_selector(m, "Odd\"Name'<&>", " <&\"> "), 0);
    CU_ASSERT_EQUAL(wsman_msg_selector(m, "", "x"), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_msg_selector(m, "N", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_msg_selector(m, "N", "\x01"), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_msg_selector(NULL, "N", "v"), AMT_ERR_INVALID_ARGUMENT);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CU_ASSERT_EQUAL(wsman_msg_selector(m, "N", big), AMT_ERR_TOO_LARGE);
    big[WSMAN_NAME_MAX] = '\0';
    CU_ASSERT_EQUAL(wsman_msg_selector(m, big, "v"), AMT_ERR_TOO_LARGE);
    doc = call_of(m, &call, id, sizeof(id));
    CU_ASSERT_EQUAL(call.selector_count, 2);
    CU_ASSERT_STRING_EQUAL(wsman_call_selector(&call, "InstanceID"),
                           "Intel(r) AMT Certificate: Handle: 0");
    CU_ASSERT_STRING_EQUAL(wsman_call_selector(&call, "Odd\"Name'<&>"), "<&\">");
    CU_ASSERT_PTR_NULL(wsman_call_selector(&call, "Other"));
    CU_ASSERT_PTR_NULL(wsman_call_selector(&call, NULL));
    CU_ASSERT_PTR_NULL(wsman_call_selector(NULL, "InstanceID"));
    xmlFreeDoc(doc);
}

static void
test_put_round_trip(void)
{
    struct wsman_msg *m = NULL;
    struct wsman_call call;
    struct wsman_reply reply;
    char id[64], buf[32];
    xmlDocPtr doc, rdoc;

    CU_ASSERT_EQUAL_FATAL(wsman_request_new(WSMAN_PUT, TO, GENERAL_SETTINGS, NULL, &m),
                          0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), WSMAN_ACTION_PUT);
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "HostName", "newname", NULL), 0);
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "PingResponseEnabled", "true", NULL), 0);
    doc = call_of(m, &call, id, sizeof(id));
    CU_ASSERT_EQUAL(call.kind, WSMAN_PUT);
    CU_ASSERT_TRUE(xmlsafe_is(call.body, GENERAL_SETTINGS, "AMT_GeneralSettings"));
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(call.body, GENERAL_SETTINGS, "HostName"),
                                 buf, sizeof(buf)),
                    0);
    CU_ASSERT_STRING_EQUAL(buf, "newname");

    CU_ASSERT_EQUAL_FATAL(wsman_response_new(&call, &m), 0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), WSMAN_ACTION_PUT_RESPONSE);
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "HostName", "newname", NULL), 0);
    rdoc = reparse(m, NULL);
    CU_ASSERT_EQUAL_FATAL(wsman_reply_parse(rdoc, &reply, NULL, 0), 0);
    CU_ASSERT_EQUAL(reply.kind, WSMAN_PUT);
    CU_ASSERT_STRING_EQUAL(reply.relates_to, id);
    CU_ASSERT_TRUE(xmlsafe_is(reply.instance, GENERAL_SETTINGS, "AMT_GeneralSettings"));
    xmlFreeDoc(rdoc);
    xmlFreeDoc(doc);
}

static void
test_delete_round_trip(void)
{
    static const char handle[] = "Intel(r) AMT Certificate: Handle: 3";
    struct wsman_msg *m = NULL;
    struct wsman_call call;
    struct wsman_reply reply;
    char id[64], *text = NULL;
    xmlDocPtr doc, rdoc;

    CU_ASSERT_EQUAL_FATAL(wsman_request_new(WSMAN_DELETE, TO, CERT, NULL, &m), 0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), WSMAN_ACTION_DELETE);
    CU_ASSERT_STRING_EQUAL(WSMAN_ACTION_DELETE,
                           "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete");
    CU_ASSERT_EQUAL(wsman_msg_selector(m, "InstanceID", handle), 0);
    /* nothing to fill: a Delete has no payload */
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "X", "1", NULL), AMT_ERR_INVALID_ARGUMENT);
    snprintf(id, sizeof(id), "%s", wsman_msg_message_id(m));
    doc = reparse(m, &text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "<s:Body/>"));
    free(text);
    CU_ASSERT_EQUAL_FATAL(wsman_call_parse(doc, &call, NULL, 0), 0);
    CU_ASSERT_EQUAL(call.kind, WSMAN_DELETE);
    CU_ASSERT_STRING_EQUAL(call.action, WSMAN_ACTION_DELETE);
    CU_ASSERT_STRING_EQUAL(call.resource_uri, CERT);
    CU_ASSERT_STRING_EQUAL(wsman_call_selector(&call, "InstanceID"), handle);
    CU_ASSERT_PTR_NULL(call.body);

    /* the other builders do not answer a Delete, nor this one anything else */
    CU_ASSERT_EQUAL(wsman_response_new(&call, &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_EQUAL(wsman_delete_response_new(NULL, &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_delete_response_new(&call, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL_FATAL(wsman_delete_response_new(&call, &m), 0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), WSMAN_ACTION_DELETE_RESPONSE);
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "X", "1", NULL), AMT_ERR_INVALID_ARGUMENT);
    rdoc = reparse(m, &text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "<s:Body/>"));
    free(text);
    CU_ASSERT_EQUAL_FATAL(wsman_reply_parse(rdoc, &reply, NULL, 0), 0);
    CU_ASSERT_EQUAL(reply.kind, WSMAN_DELETE);
    CU_ASSERT_STRING_EQUAL(reply.action, WSMAN_ACTION_DELETE_RESPONSE);
    CU_ASSERT_STRING_EQUAL(reply.relates_to, id);
    CU_ASSERT_PTR_NULL(reply.body);
    CU_ASSERT_PTR_NULL(reply.instance);
    xmlFreeDoc(rdoc);

    call.kind = WSMAN_GET;
    CU_ASSERT_EQUAL(wsman_delete_response_new(&call, &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(m);
    xmlFreeDoc(doc);
}

static void
test_enumerate_round_trip(void)
{
    char big[WSMAN_ID_MAX + 1];
    struct wsman_msg *m = NULL;
    struct wsman_call call;
    struct wsman_reply reply;
    char id[64];
    xmlDocPtr doc, rdoc;

    CU_ASSERT_EQUAL_FATAL(wsman_request_new(WSMAN_ENUMERATE, TO, CERT, NULL, &m), 0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), WSMAN_ACTION_ENUMERATE);
    doc = call_of(m, &call, id, sizeof(id));
    CU_ASSERT_EQUAL(call.kind, WSMAN_ENUMERATE);
    CU_ASSERT_TRUE(xmlsafe_is(call.body, WSMAN_WSEN_NS, "Enumerate"));

    CU_ASSERT_EQUAL(wsman_enumerate_response_new(&call, NULL, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_enumerate_response_new(&call, "", &m),
                    AMT_ERR_INVALID_ARGUMENT);
    memset(big, 'c', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CU_ASSERT_EQUAL(wsman_enumerate_response_new(&call, big, &m), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_PULL, TO, CERT, big, &m), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL_FATAL(
        wsman_enumerate_response_new(&call, "01000000-0000-0000-0000-000000000000", &m),
        0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), WSMAN_ACTION_ENUMERATE_RESPONSE);
    rdoc = reparse(m, NULL);
    CU_ASSERT_EQUAL_FATAL(wsman_reply_parse(rdoc, &reply, NULL, 0), 0);
    CU_ASSERT_EQUAL(reply.kind, WSMAN_ENUMERATE);
    CU_ASSERT_STRING_EQUAL(reply.relates_to, id);
    CU_ASSERT_STRING_EQUAL(reply.context, "01000000-0000-0000-0000-000000000000");
    xmlFreeDoc(rdoc);
    xmlFreeDoc(doc);
}

static void
test_pull_round_trip(void)
{
    char big[WSMAN_ID_MAX + 1];
    struct wsman_msg *m = NULL;
    struct wsman_call call;
    struct wsman_reply reply;
    xmlNodePtr item = NULL, n;
    char id[64], buf[32];
    xmlDocPtr doc, rdoc;

    CU_ASSERT_EQUAL_FATAL(wsman_request_new(WSMAN_PULL, TO, CERT, "ctx-1", &m), 0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), WSMAN_ACTION_PULL);
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "MaxElements", "999", NULL), 0);
    doc = call_of(m, &call, id, sizeof(id));
    CU_ASSERT_EQUAL(call.kind, WSMAN_PULL);
    CU_ASSERT_STRING_EQUAL(call.context, "ctx-1");
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(call.body, WSMAN_WSEN_NS, "MaxElements"),
                                 buf, sizeof(buf)),
                    0);
    CU_ASSERT_STRING_EQUAL(buf, "999");

    /* The last batch: EndOfSequence, no context. */
    CU_ASSERT_EQUAL_FATAL(wsman_pull_response_new(&call, NULL, true, &m), 0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), WSMAN_ACTION_PULL_RESPONSE);
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "X", "1", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL_FATAL(wsman_msg_item(m, CERT, &item), 0);
    CU_ASSERT_EQUAL(wsman_msg_add(m, item, "InstanceID", "Handle: 0", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(wsman_msg_item(m, CERT, &item), 0);
    CU_ASSERT_EQUAL(wsman_msg_add(m, item, "InstanceID", "Handle: 1", NULL), 0);
    CU_ASSERT_EQUAL(wsman_msg_item(m, "http://x/", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_msg_item(m, CERT, NULL), 0);
    rdoc = reparse(m, NULL);
    CU_ASSERT_EQUAL_FATAL(wsman_reply_parse(rdoc, &reply, NULL, 0), 0);
    CU_ASSERT_EQUAL(reply.kind, WSMAN_PULL);
    CU_ASSERT_STRING_EQUAL(reply.relates_to, id);
    CU_ASSERT_TRUE(reply.end_of_sequence);
    CU_ASSERT_STRING_EQUAL(reply.context, "");
    n = xmlsafe_child(reply.items, CERT, "AMT_PublicKeyCertificate");
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(n, CERT, "InstanceID"), buf, sizeof(buf)),
                    0);
    CU_ASSERT_STRING_EQUAL(buf, "Handle: 0");
    n = xmlsafe_next(n, CERT, "AMT_PublicKeyCertificate");
    CU_ASSERT_EQUAL(xmlsafe_text(xmlsafe_child(n, CERT, "InstanceID"), buf, sizeof(buf)),
                    0);
    CU_ASSERT_STRING_EQUAL(buf, "Handle: 1");
    xmlFreeDoc(rdoc);

    /* A middle batch: a context to go on with, no EndOfSequence. */
    CU_ASSERT_EQUAL(wsman_pull_response_new(&call, "\x01", false, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    memset(big, 'c', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CU_ASSERT_EQUAL(wsman_pull_response_new(&call, big, false, &m), AMT_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_EQUAL_FATAL(wsman_pull_response_new(&call, "ctx-2", false, &m), 0);
    rdoc = reparse(m, NULL);
    CU_ASSERT_EQUAL_FATAL(wsman_reply_parse(rdoc, &reply, NULL, 0), 0);
    CU_ASSERT_FALSE(reply.end_of_sequence);
    CU_ASSERT_STRING_EQUAL(reply.context, "ctx-2");
    CU_ASSERT_PTR_NOT_NULL(reply.items);
    CU_ASSERT_PTR_NULL(xmlsafe_child(reply.items, NULL, NULL));
    xmlFreeDoc(rdoc);
    xmlFreeDoc(doc);
}

static void
test_invoke_round_trip(void)
{
    struct wsman_msg *m = NULL;
    struct wsman_call call;
    struct wsman_reply reply;
    xmlNodePtr epr = NULL, last;
    char id[64], buf[64], *text = NULL;
    xmlDocPtr doc, rdoc;

    CU_ASSERT_EQUAL_FATAL(
        wsman_request_new(WSMAN_INVOKE, TO, PKMS, "AddTrustedRootCertificate", &m), 0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), PKMS "/AddTrustedRootCertificate");
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "CertificateBlob", "MIIB", NULL), 0);
    doc = call_of(m, &call, id, sizeof(id));
    CU_ASSERT_EQUAL(call.kind, WSMAN_INVOKE);
    CU_ASSERT_STRING_EQUAL(call.method, "AddTrustedRootCertificate");
    CU_ASSERT_TRUE(xmlsafe_is(call.body, PKMS, "AddTrustedRootCertificate_INPUT"));
    CU_ASSERT_EQUAL(
        xmlsafe_text(xmlsafe_child(call.body, PKMS, "CertificateBlob"), buf, sizeof(buf)),
        0);
    CU_ASSERT_STRING_EQUAL(buf, "MIIB");

    CU_ASSERT_EQUAL_FATAL(wsman_invoke_response_new(&call, 0, &m), 0);
    CU_ASSERT_STRING_EQUAL(wsman_msg_action(m),
                           PKMS "/AddTrustedRootCertificateResponse");
    /* Outputs added after creation still come before ReturnValue. */
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "CreatedCertificate", NULL, &epr), 0);
    CU_ASSERT_EQUAL(
        wsman_msg_add_ns(m, epr, WSMAN_WSA_NS, "Address", WSMAN_ANONYMOUS, NULL), 0);
    CU_ASSERT_EQUAL(wsman_msg_add_ns(m, epr, "urn:new", "Extra", "1", NULL), 0);
    rdoc = reparse(m, &text);
    /* The envelope's a: prefix is reused rather than declared again. */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "<a:Address>"));
    free(text);
    CU_ASSERT_EQUAL_FATAL(wsman_reply_parse(rdoc, &reply, NULL, 0), 0);
    CU_ASSERT_EQUAL(reply.kind, WSMAN_INVOKE);
    CU_ASSERT_STRING_EQUAL(reply.method, "AddTrustedRootCertificate");
    CU_ASSERT_STRING_EQUAL(reply.relates_to, id);
    CU_ASSERT_EQUAL(reply.return_value, 0);
    CU_ASSERT_TRUE(xmlsafe_is(reply.instance, PKMS, "AddTrustedRootCertificate_OUTPUT"));
    CU_ASSERT_TRUE(xmlsafe_is(xmlsafe_child(reply.instance, NULL, NULL), PKMS,
                              "CreatedCertificate"));
    for (last = xmlsafe_child(reply.instance, NULL, NULL);
         xmlsafe_next(last, NULL, NULL) != NULL;)
        last = xmlsafe_next(last, NULL, NULL);
    CU_ASSERT_TRUE(xmlsafe_is(last, PKMS, "ReturnValue"));
    xmlFreeDoc(rdoc);

    CU_ASSERT_EQUAL_FATAL(wsman_invoke_response_new(&call, 2, &m), 0);
    rdoc = reparse(m, NULL);
    CU_ASSERT_EQUAL(wsman_reply_parse(rdoc, &reply, NULL, 0), 0);
    CU_ASSERT_EQUAL(reply.return_value, 2);
    xmlFreeDoc(rdoc);
    xmlFreeDoc(doc);
}

static void
test_request_builder_refusals(void)
{
    struct wsman_msg *m = NULL, *other = NULL;
    xmlNodePtr foreign = NULL;
    char long_method[WSMAN_NAME_MAX + 1], long_uri[WSMAN_URI_MAX + WSMAN_NAME_MAX];

    memset(long_method, 'M', sizeof(long_method) - 1);
    long_method[sizeof(long_method) - 1] = '\0';
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_UNKNOWN, TO, CERT, NULL, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_PULL, TO, CERT, NULL, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_INVOKE, TO, CERT, "a b", &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_INVOKE, TO, CERT, long_method, &m),
                    AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_GET, "\x01", CERT, NULL, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_GET, TO, "", NULL, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_PUT, TO, "http://x/", NULL, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_GET, TO, CERT, NULL, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_PUT, TO, "urn:a&b/AMT_X", NULL, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    /* Nothing longer than the readers take. */
    memset(long_uri, 'u', sizeof(long_uri) - 1);
    long_uri[sizeof(long_uri) - 1] = '\0';
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_GET, TO, long_uri, NULL, &m),
                    AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_GET, long_uri, CERT, NULL, &m),
                    AMT_ERR_TOO_LARGE);
    long_uri[WSMAN_URI_MAX - 1] = '\0';
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_GET, TO, long_uri, NULL, &m), 0);
    wsman_msg_free(m);
    CU_ASSERT_EQUAL(wsman_request_new(WSMAN_INVOKE, TO, long_uri, "M", &m),
                    AMT_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NULL(m);

    CU_ASSERT_EQUAL_FATAL(wsman_request_new(WSMAN_GET, TO, CERT, NULL, &m), 0);
    CU_ASSERT_EQUAL(wsman_msg_add(m, NULL, "X", "1", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_msg_item(m, CERT, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL_FATAL(wsman_request_new(WSMAN_PUT, TO, CERT, NULL, &other), 0);
    CU_ASSERT_EQUAL_FATAL(wsman_msg_add(other, NULL, "X", NULL, &foreign), 0);
    CU_ASSERT_EQUAL(wsman_msg_add(m, foreign, "Y", "1", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_msg_add(other, NULL, "bad name", "1", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_msg_add(NULL, NULL, "Y", "1", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_msg_item(NULL, CERT, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(wsman_msg_action(NULL));
    CU_ASSERT_PTR_NULL(wsman_msg_message_id(NULL));
    CU_ASSERT_EQUAL(wsman_msg_text(NULL, NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    wsman_msg_free(m);
    wsman_msg_free(other);
    wsman_msg_free(NULL);
}

static void
test_response_builder_refusals(void)
{
    char big[WSMAN_URI_MAX + 1];
    struct wsman_msg *m = NULL;
    struct wsman_call call;

    memset(&call, 0, sizeof(call));
    call.kind = WSMAN_ENUMERATE;
    snprintf(call.resource_uri, sizeof(call.resource_uri), "%s", CERT);
    CU_ASSERT_EQUAL(wsman_response_new(&call, &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_response_new(NULL, &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_pull_response_new(&call, NULL, true, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_invoke_response_new(&call, 0, &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_enumerate_response_new(NULL, "c", &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_enumerate_response_new(&call, "c", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    /* A message ID that is not XML text cannot be echoed. */
    snprintf(call.message_id, sizeof(call.message_id), "bad\x01");
    CU_ASSERT_EQUAL(wsman_enumerate_response_new(&call, "c", &m),
                    AMT_ERR_INVALID_ARGUMENT);
    /* Nor a class name that is not an XML name. */
    call.kind = WSMAN_GET;
    call.message_id[0] = '\0';
    snprintf(call.resource_uri, sizeof(call.resource_uri), "http://x/1bad");
    CU_ASSERT_EQUAL(wsman_response_new(&call, &m), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(m);

    CU_ASSERT_EQUAL(wsman_fault_new(NULL, WSMAN_FAULT_NONE, NULL, NULL, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_fault_new(NULL, WSMAN_FAULT_OTHER, NULL, NULL, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_fault_new(NULL, WSMAN_FAULT_TIMED_OUT, "\x01", NULL, &m),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wsman_fault_new(NULL, WSMAN_FAULT_TIMED_OUT, NULL, "", &m),
                    AMT_ERR_INVALID_ARGUMENT);
    memset(big, 'd', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CU_ASSERT_EQUAL(wsman_fault_new(NULL, WSMAN_FAULT_TIMED_OUT, NULL, big, &m),
                    AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(wsman_fault_new(NULL, WSMAN_FAULT_TIMED_OUT, NULL, NULL, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
}

/* A request written out by hand, with one header left out or one added. */
static char *
request_text(const char *omit, const char *extra_header, const char *action,
             const char *body)
{
    static const struct {
        const char *name;
        const char *open;
        const char *value; /* NULL: the action */
        const char *close;
    } headers[] = {
        {"Action", "<a:Action>", NULL, "</a:Action>"},
        {"To", "<a:To>", TO, "</a:To>"},
        {"ResourceURI", "<w:ResourceURI>", GENERAL_SETTINGS, "</w:ResourceURI>"},
        {"MessageID", "<a:MessageID>", "uuid:1", "</a:MessageID>"},
    };
    char *text = malloc(8192);
    size_t used;

    used = (size_t)snprintf(text, 8192,
                            "<s:Envelope xmlns:s=\"" WSMAN_ENV_NS
                            "\" xmlns:a=\"" WSMAN_WSA_NS "\" xmlns:w=\"" WSMAN_NS
                            "\" xmlns:n=\"" WSMAN_WSEN_NS "\"><s:Header>");
    if (action == NULL)
        action = WSMAN_ACTION_GET;
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
        if (omit == NULL || strcmp(omit, headers[i].name) != 0)
            used += (size_t)snprintf(text + used, 8192 - used, "%s%s%s", headers[i].open,
                                     headers[i].value != NULL ? headers[i].value : action,
                                     headers[i].close);
    snprintf(text + used, 8192 - used, "%s</s:Header><s:Body>%s</s:Body></s:Envelope>",
             extra_header != NULL ? extra_header : "", body != NULL ? body : "");
    return text;
}

/* Parses a hand-written request and checks how it is refused. */
static void
expect_refusal(char *text, int code, enum wsman_fault fault, const char *in_detail)
{
    struct wsman_call call;
    char detail[256];
    xmlDocPtr doc = parse_text(text);

    CU_ASSERT_EQUAL(wsman_call_parse(doc, &call, detail, sizeof(detail)), code);
    CU_ASSERT_EQUAL(call.fault, fault);
    CU_ASSERT_EQUAL(call.kind, WSMAN_UNKNOWN);
    CU_ASSERT_PTR_NULL(call.body);
    if (in_detail != NULL && strstr(detail, in_detail) == NULL) {
        fprintf(stderr, "detail \"%s\" lacks \"%s\"\n", detail, in_detail);
        CU_FAIL("detail");
    }
    xmlFreeDoc(doc);
    free(text);
}

static void
test_missing_headers(void)
{
    const enum wsman_fault required = WSMAN_FAULT_MESSAGE_INFORMATION_HEADER_REQUIRED;
    struct wsman_call call;
    char long_to[700];
    xmlDocPtr doc;
    char *text;

    expect_refusal(request_text("Action", NULL, NULL, NULL), AMT_ERR_WSMAN_HEADER,
                   required, "missing wsa:Action header");
    expect_refusal(request_text("To", NULL, NULL, NULL), AMT_ERR_WSMAN_HEADER, required,
                   "missing wsa:To header");
    expect_refusal(request_text("MessageID", NULL, NULL, NULL), AMT_ERR_WSMAN_HEADER,
                   required, "missing wsa:MessageID header");
    expect_refusal(request_text("ResourceURI", NULL, NULL, NULL), AMT_ERR_WSMAN_HEADER,
                   WSMAN_FAULT_DESTINATION_UNREACHABLE,
                   "missing wsman:ResourceURI header");
    expect_refusal(
        request_text(NULL, "<a:Action>" WSMAN_ACTION_GET "</a:Action>", NULL, NULL),
        AMT_ERR_WSMAN_HEADER, WSMAN_FAULT_INVALID_MESSAGE_INFORMATION_HEADER,
        "wsa:Action header given twice");
    expect_refusal(request_text(NULL, NULL, " ", NULL), AMT_ERR_WSMAN_HEADER, required,
                   "empty wsa:Action header");
    snprintf(long_to, sizeof(long_to), "<a:To>%0600d</a:To>", 0);
    expect_refusal(request_text("To", long_to, NULL, NULL), AMT_ERR_WSMAN_HEADER,
                   WSMAN_FAULT_INVALID_MESSAGE_INFORMATION_HEADER,
                   "wsa:To header longer than 511 bytes");
    expect_refusal(
        strdup("<s:Envelope xmlns:s=\"" WSMAN_ENV_NS "\"><s:Body/></s:Envelope>"),
        AMT_ERR_WSMAN_HEADER, required, "missing wsa:MessageID");

    /* A refusal keeps the MessageID, so that the fault can relate to it. */
    text = request_text("To", NULL, NULL, NULL);
    doc = parse_text(text);
    CU_ASSERT_EQUAL(wsman_call_parse(doc, &call, NULL, 0), AMT_ERR_WSMAN_HEADER);
    CU_ASSERT_STRING_EQUAL(call.message_id, "uuid:1");
    CU_ASSERT_STRING_EQUAL(call.action, "");
    CU_ASSERT_EQUAL(wsman_call_parse(doc, NULL, NULL, 0), AMT_ERR_INVALID_ARGUMENT);
    xmlFreeDoc(doc);
    free(text);
}

static void
test_envelope_refused(void)
{
    expect_refusal(
        strdup("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
               "<s:Body/></s:Envelope>"),
        AMT_ERR_SOAP_ENVELOPE, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, "SOAP 1.2");
    expect_refusal(
        strdup("<s:Envelope xmlns:s=\"" WSMAN_ENV_NS "\"><s:Header/></s:Envelope>"),
        AMT_ERR_SOAP_ENVELOPE, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, "Body");
}

static void
test_unsupported_actions(void)
{
    expect_refusal(request_text(NULL, NULL, WSMAN_WXF_NS "/Create", NULL),
                   AMT_ERR_WSMAN_ACTION, WSMAN_FAULT_ACTION_NOT_SUPPORTED, "/Create");
    /* A method of another resource is not a method of this one. */
    expect_refusal(request_text(NULL, NULL, PKMS "/AddKey", NULL), AMT_ERR_WSMAN_ACTION,
                   WSMAN_FAULT_ACTION_NOT_SUPPORTED, NULL);
    expect_refusal(request_text(NULL, NULL, GENERAL_SETTINGS "/", NULL),
                   AMT_ERR_WSMAN_ACTION, WSMAN_FAULT_ACTION_NOT_SUPPORTED, NULL);
    expect_refusal(request_text(NULL, NULL, GENERAL_SETTINGS "/a/b", NULL),
                   AMT_ERR_WSMAN_ACTION, WSMAN_FAULT_ACTION_NOT_SUPPORTED, NULL);
    expect_refusal(request_text(NULL, NULL, GENERAL_SETTINGS, NULL), AMT_ERR_WSMAN_ACTION,
                   WSMAN_FAULT_ACTION_NOT_SUPPORTED, NULL);
}

static void
test_bodies_that_do_not_fit(void)
{
    const enum wsman_fault schema = WSMAN_FAULT_SCHEMA_VALIDATION_ERROR;
    char long_ctx[300];

    expect_refusal(request_text(NULL, NULL, WSMAN_ACTION_PUT, NULL), AMT_ERR_WSMAN_BODY,
                   schema, "Put");
    expect_refusal(request_text(NULL, NULL, WSMAN_ACTION_PUT,
                                "<p:AMT_Other xmlns:p=\"" GENERAL_SETTINGS "\"/>"),
                   AMT_ERR_WSMAN_BODY, schema, "Put");
    expect_refusal(request_text(NULL, NULL, WSMAN_ACTION_PUT,
                                "<p:AMT_GeneralSettings xmlns:p=\"urn:other\"/>"),
                   AMT_ERR_WSMAN_BODY, schema, "Put");
    expect_refusal(request_text(NULL, NULL, WSMAN_ACTION_ENUMERATE, NULL),
                   AMT_ERR_WSMAN_BODY, schema, "Enumerate");
    expect_refusal(request_text(NULL, NULL, WSMAN_ACTION_PULL, "<n:Enumerate/>"),
                   AMT_ERR_WSMAN_BODY, schema, "Pull");
    expect_refusal(request_text(NULL, NULL, WSMAN_ACTION_PULL, "<n:Pull/>"),
                   AMT_ERR_WSMAN_BODY, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT,
                   "EnumerationContext");
    expect_refusal(
        request_text(NULL, NULL, WSMAN_ACTION_PULL,
                     "<n:Pull><n:EnumerationContext> </n:EnumerationContext></n:Pull>"),
        AMT_ERR_WSMAN_BODY, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, NULL);
    snprintf(long_ctx, sizeof(long_ctx),
             "<n:Pull><n:EnumerationContext>%0200d</n:EnumerationContext></n:Pull>", 0);
    expect_refusal(request_text(NULL, NULL, WSMAN_ACTION_PULL, long_ctx),
                   AMT_ERR_WSMAN_BODY, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, "127");
    expect_refusal(request_text(NULL, NULL, GENERAL_SETTINGS "/SetX",
                                "<p:SetY_INPUT xmlns:p=\"" GENERAL_SETTINGS "\"/>"),
                   AMT_ERR_WSMAN_BODY, schema, "SetX_INPUT");
}

static void
test_bad_selectors(void)
{
    const enum wsman_fault bad = WSMAN_FAULT_INVALID_SELECTORS;
    char many[2048], long_value[400];
    size_t used;

    used = (size_t)snprintf(many, sizeof(many), "<w:SelectorSet>");
    for (int i = 0; i <= WSMAN_SELECTORS_MAX; i++)
        used += (size_t)snprintf(many + used, sizeof(many) - used,
                                 "<w:Selector Name=\"N%d\">v</w:Selector>", i);
    snprintf(many + used, sizeof(many) - used, "</w:SelectorSet>");
    expect_refusal(request_text(NULL, many, NULL, NULL), AMT_ERR_WSMAN_HEADER, bad,
                   "more than 8 selectors");
    expect_refusal(request_text(NULL,
                                "<w:SelectorSet><w:Selector Name=\"A\">1</w:Selector>"
                                "<w:Selector Name=\"A\">2</w:Selector></w:SelectorSet>",
                                NULL, NULL),
                   AMT_ERR_WSMAN_HEADER, bad, "selector A given twice");
    expect_refusal(
        request_text(NULL, "<w:SelectorSet><w:Selector>1</w:Selector></w:SelectorSet>",
                     NULL, NULL),
        AMT_ERR_WSMAN_HEADER, bad, "without Name");
    expect_refusal(request_text(NULL,
                                "<w:SelectorSet><w:Selector Name=\"\">1</w:Selector>"
                                "</w:SelectorSet>",
                                NULL, NULL),
                   AMT_ERR_WSMAN_HEADER, bad, "Name empty");
    snprintf(long_value, sizeof(long_value),
             "<w:SelectorSet><w:Selector Name=\"A\">%0300d</w:Selector></w:SelectorSet>",
             0);
    expect_refusal(request_text(NULL, long_value, NULL, NULL), AMT_ERR_WSMAN_HEADER, bad,
                   "selector A longer than 255 bytes");
    expect_refusal(request_text(NULL, "<w:SelectorSet/><w:SelectorSet/>", NULL, NULL),
                   AMT_ERR_WSMAN_HEADER, bad, "SelectorSet");
}

static void
test_selector_count_cap(void)
{
    struct wsman_msg *m = NULL;
    char name[8];

    CU_ASSERT_EQUAL_FATAL(wsman_request_new(WSMAN_GET, TO, CERT, NULL, &m), 0);
    for (int i = 0; i < WSMAN_SELECTORS_MAX; i++) {
        snprintf(name, sizeof(name), "N%d", i);
        CU_ASSERT_EQUAL(wsman_msg_selector(m, name, "v"), 0);
    }
    CU_ASSERT_EQUAL(wsman_msg_selector(m, "One", "more"), AMT_ERR_TOO_LARGE);
    wsman_msg_free(m);
}

static void
test_selectors_at_cap(void)
{
    char set[2048], *text;
    struct wsman_call call;
    xmlDocPtr doc;
    size_t used;

    used = (size_t)snprintf(set, sizeof(set), "<w:SelectorSet>");
    for (int i = 0; i < WSMAN_SELECTORS_MAX; i++)
        used += (size_t)snprintf(set + used, sizeof(set) - used,
                                 "<w:Selector Name=\"N%d\">v%d</w:Selector>", i, i);
    snprintf(set + used, sizeof(set) - used, "</w:SelectorSet>");
    text = request_text(NULL, set, NULL, NULL);
    doc = parse_text(text);
    CU_ASSERT_EQUAL(wsman_call_parse(doc, &call, NULL, 0), 0);
    CU_ASSERT_EQUAL(call.selector_count, WSMAN_SELECTORS_MAX);
    CU_ASSERT_STRING_EQUAL(wsman_call_selector(&call, "N7"), "v7");
    xmlFreeDoc(doc);
    free(text);
}

static const enum wsman_fault all_faults[] = {
    WSMAN_FAULT_ACCESS_DENIED,
    WSMAN_FAULT_ACTION_NOT_SUPPORTED,
    WSMAN_FAULT_DESTINATION_UNREACHABLE,
    WSMAN_FAULT_ENDPOINT_UNAVAILABLE,
    WSMAN_FAULT_INTERNAL_ERROR,
    WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT,
    WSMAN_FAULT_INVALID_MESSAGE_INFORMATION_HEADER,
    WSMAN_FAULT_INVALID_SELECTORS,
    WSMAN_FAULT_MESSAGE_INFORMATION_HEADER_REQUIRED,
    WSMAN_FAULT_SCHEMA_VALIDATION_ERROR,
    WSMAN_FAULT_TIMED_OUT,
    WSMAN_FAULT_UNSUPPORTED_FEATURE,
};

static bool
is_receiver_fault(enum wsman_fault f)
{
    return f == WSMAN_FAULT_ENDPOINT_UNAVAILABLE || f == WSMAN_FAULT_INTERNAL_ERROR ||
           f == WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT || f == WSMAN_FAULT_TIMED_OUT;
}

static void
test_faults_round_trip(void)
{
    static const enum wsman_kind kinds[] = {WSMAN_GET, WSMAN_PUT, WSMAN_ENUMERATE,
                                            WSMAN_PULL, WSMAN_INVOKE};
    size_t nk = sizeof(kinds) / sizeof(kinds[0]);

    for (size_t i = 0; i < sizeof(all_faults) / sizeof(all_faults[0]); i++) {
        struct wsman_msg *m = NULL;
        struct wsman_call call;
        struct wsman_reply reply;
        enum wsman_kind kind = kinds[i % nk];
        char id[64], detail[512];
        const char *colon;
        xmlDocPtr doc, rdoc;

        CU_ASSERT_EQUAL_FATAL(wsman_request_new(kind, TO, PKMS,
                                                kind == WSMAN_PULL     ? "ctx"
                                                : kind == WSMAN_INVOKE ? "GenerateKeyPair"
                                                                       : NULL,
                                                &m),
                              0);
        doc = call_of(m, &call, id, sizeof(id));
        CU_ASSERT_EQUAL_FATAL(wsman_fault_new(&call, all_faults[i], NULL, NULL, &m), 0);
        CU_ASSERT_STRING_EQUAL(wsman_msg_action(m), wsman_fault_action(all_faults[i]));
        rdoc = reparse(m, NULL);
        CU_ASSERT_EQUAL(wsman_reply_parse(rdoc, &reply, detail, sizeof(detail)),
                        AMT_ERR_SOAP_FAULT);
        CU_ASSERT_EQUAL(reply.fault, all_faults[i]);
        CU_ASSERT_EQUAL(reply.kind, WSMAN_UNKNOWN);
        CU_ASSERT_STRING_EQUAL(reply.fault_code,
                               is_receiver_fault(all_faults[i]) ? "Receiver" : "Sender");
        colon = strchr(wsman_fault_name(all_faults[i]), ':');
        CU_ASSERT_PTR_NOT_NULL(strstr(reply.fault_subcode, colon));
        CU_ASSERT_STRING_EQUAL(reply.relates_to, id);
        CU_ASSERT_STRING_EQUAL(reply.action, wsman_fault_action(all_faults[i]));
        CU_ASSERT_NOT_EQUAL(reply.fault_reason[0], '\0');
        CU_ASSERT_STRING_EQUAL(reply.fault_detail, "");
        CU_ASSERT_PTR_NOT_NULL(strstr(detail, reply.fault_subcode));
        xmlFreeDoc(rdoc);
        xmlFreeDoc(doc);
    }
}

static void
test_fault_with_reason_and_detail(void)
{
    struct wsman_msg *m = NULL;
    struct wsman_reply reply;
    char *text = NULL;
    xmlDocPtr rdoc;

    CU_ASSERT_EQUAL_FATAL(wsman_fault_new(NULL, WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                          "No such <resource> & so on",
                                          WSMAN_FAULT_DETAIL_PREFIX "InvalidResourceURI",
                                          &m),
                          0);
    rdoc = reparse(m, &text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "<s:Value>s:Sender</s:Value>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "<s:Value>a:DestinationUnreachable</s:Value>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "xml:lang=\"en-US\""));
    CU_ASSERT_PTR_NULL(strstr(text, "RelatesTo"));
    free(text);
    CU_ASSERT_EQUAL(wsman_reply_parse(rdoc, &reply, NULL, 0), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, WSMAN_FAULT_DESTINATION_UNREACHABLE);
    CU_ASSERT_STRING_EQUAL(reply.fault_reason, "No such <resource> & so on");
    CU_ASSERT_STRING_EQUAL(reply.fault_detail,
                           WSMAN_FAULT_DETAIL_PREFIX "InvalidResourceURI");
    CU_ASSERT_STRING_EQUAL(reply.relates_to, "");
    xmlFreeDoc(rdoc);
}

/* What a server does with a request it cannot read: answer the fault the parse names. */
static void
test_fault_from_failed_parse(void)
{
    struct wsman_msg *m = NULL;
    struct wsman_call call;
    struct wsman_reply reply;
    char *text = request_text(NULL, NULL, WSMAN_WXF_NS "/Create", NULL);
    xmlDocPtr doc = parse_text(text), rdoc;

    CU_ASSERT_EQUAL(wsman_call_parse(doc, &call, NULL, 0), AMT_ERR_WSMAN_ACTION);
    CU_ASSERT_EQUAL_FATAL(wsman_fault_new(&call, call.fault, NULL, NULL, &m), 0);
    rdoc = reparse(m, NULL);
    CU_ASSERT_EQUAL(wsman_reply_parse(rdoc, &reply, NULL, 0), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, WSMAN_FAULT_ACTION_NOT_SUPPORTED);
    CU_ASSERT_STRING_EQUAL(reply.relates_to, "uuid:1");
    xmlFreeDoc(rdoc);
    xmlFreeDoc(doc);
    free(text);
}

/* Faults written by others: unknown subcodes, prefixes bound elsewhere, no headers. */
static void
test_foreign_faults(void)
{
    static const char unknown[] =
        "<S:Envelope xmlns:S=\"" WSMAN_ENV_NS "\" xmlns:w=\"" WSMAN_NS
        "\"><S:Body><S:Fault>"
        "<S:Code><S:Value>S:Receiver</S:Value><S:Subcode><S:Value>w:NoSuchFault</S:Value>"
        "</S:Subcode></S:Code></S:Fault></S:Body></S:Envelope>";
    static const char wrong_ns[] =
        "<S:Envelope xmlns:S=\"" WSMAN_ENV_NS
        "\" xmlns:w=\"urn:not-wsman\"><S:Body><S:Fault>"
        "<S:Code><S:Value>x:Sender</S:Value><S:Subcode><S:Value>w:AccessDenied</S:Value>"
        "</S:Subcode></S:Code></S:Fault></S:Body></S:Envelope>";
    static const char no_subcode[] =
        "<S:Envelope xmlns:S=\"" WSMAN_ENV_NS "\"><S:Body><S:Fault><S:Code>"
        "<S:Value>Sender</S:Value></S:Code></S:Fault></S:Body></S:Envelope>";
    static const char default_ns[] =
        "<Envelope xmlns=\"" WSMAN_ENV_NS "\"><Body><Fault><Code><Value>Sender</Value>"
        "<Subcode><Value xmlns:q=\"" WSMAN_NS "\">q:TimedOut</Value></Subcode></Code>"
        "</Fault></Body></Envelope>";
    struct wsman_reply reply;
    xmlDocPtr doc;

    doc = parse_text(unknown);
    CU_ASSERT_EQUAL(wsman_reply_parse(doc, &reply, NULL, 0), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, WSMAN_FAULT_OTHER);
    CU_ASSERT_STRING_EQUAL(reply.fault_code, "Receiver");
    CU_ASSERT_STRING_EQUAL(reply.fault_subcode, "w:NoSuchFault");
    xmlFreeDoc(doc);
    doc = parse_text(wrong_ns);
    CU_ASSERT_EQUAL(wsman_reply_parse(doc, &reply, NULL, 0), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, WSMAN_FAULT_OTHER);
    CU_ASSERT_STRING_EQUAL(reply.fault_code, "x:Sender"); /* x is not bound: kept as is */
    xmlFreeDoc(doc);
    doc = parse_text(no_subcode);
    CU_ASSERT_EQUAL(wsman_reply_parse(doc, &reply, NULL, 0), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, WSMAN_FAULT_OTHER);
    CU_ASSERT_STRING_EQUAL(reply.fault_code, "Sender");
    xmlFreeDoc(doc);
    doc = parse_text(default_ns);
    CU_ASSERT_EQUAL(wsman_reply_parse(doc, &reply, NULL, 0), AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(reply.fault, WSMAN_FAULT_TIMED_OUT);
    CU_ASSERT_STRING_EQUAL(reply.fault_code, "Sender");
    xmlFreeDoc(doc);
}

/* A reply as AMT writes it: its own prefixes, extra headers, ReturnValue last. */
/* A Delete as another client writes it: prefixes of its own, selectors, no body. */
static void
test_delete_written_by_others(void)
{
    static const char reply_text[] =
        "<e:Envelope xmlns:e=\"" WSMAN_ENV_NS "\" xmlns:x=\"" WSMAN_WSA_NS "\">"
        "<e:Header><x:To>" WSMAN_ANONYMOUS "</x:To><x:RelatesTo>uuid:1</x:RelatesTo>"
        "<x:Action e:mustUnderstand=\"true\">" WSMAN_ACTION_DELETE_RESPONSE "</x:Action>"
        "<x:MessageID>uuid:2</x:MessageID></e:Header><e:Body></e:Body></e:Envelope>";
    struct wsman_call call;
    struct wsman_reply reply;
    char *text = request_text(
        NULL,
        "<w:SelectorSet><w:Selector Name=\"InstanceID\">Intel(r) AMT:WiFi Endpoint "
        "User Settings 1</w:Selector></w:SelectorSet>",
        WSMAN_ACTION_DELETE, NULL);
    xmlDocPtr doc = parse_text(text);

    CU_ASSERT_EQUAL(wsman_call_parse(doc, &call, NULL, 0), 0);
    CU_ASSERT_EQUAL(call.kind, WSMAN_DELETE);
    CU_ASSERT_STRING_EQUAL(wsman_call_selector(&call, "InstanceID"),
                           "Intel(r) AMT:WiFi Endpoint User Settings 1");
    xmlFreeDoc(doc);
    free(text);

    doc = parse_text(reply_text);
    CU_ASSERT_EQUAL(wsman_reply_parse(doc, &reply, NULL, 0), 0);
    CU_ASSERT_EQUAL(reply.kind, WSMAN_DELETE);
    CU_ASSERT_STRING_EQUAL(reply.relates_to, "uuid:1");
    xmlFreeDoc(doc);
}

static void
test_amt_style_reply(void)
{
    static const char text[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a:Envelope xmlns:a=\"" WSMAN_ENV_NS
        "\" xmlns:b=\"" WSMAN_WSA_NS "\" xmlns:c=\"" WSMAN_NS "\" xmlns:g=\"" PKMS "\">"
        "<a:Header><b:To>" WSMAN_ANONYMOUS "</b:To><b:RelatesTo>uuid:7</b:RelatesTo>"
        "<b:Action a:mustUnderstand=\"true\">" PKMS "/AddTrustedRootCertificateResponse"
        "</b:Action><b:MessageID>uuid:00000000-8086-8086-8086-000000000001</b:MessageID>"
        "<c:ResourceURI>" PKMS "</c:ResourceURI></a:Header><a:Body>"
        "<g:AddTrustedRootCertificate_OUTPUT><g:CreatedCertificate><b:"
        "Address>" WSMAN_ANONYMOUS
        "</b:Address></g:CreatedCertificate><g:ReturnValue>0</g:ReturnValue>"
        "</g:AddTrustedRootCertificate_OUTPUT></a:Body></a:Envelope>";
    struct wsman_reply reply;
    xmlDocPtr doc = parse_text(text);

    CU_ASSERT_EQUAL(wsman_reply_parse(doc, &reply, NULL, 0), 0);
    CU_ASSERT_EQUAL(reply.kind, WSMAN_INVOKE);
    CU_ASSERT_STRING_EQUAL(reply.method, "AddTrustedRootCertificate");
    CU_ASSERT_STRING_EQUAL(reply.relates_to, "uuid:7");
    CU_ASSERT_STRING_EQUAL(reply.message_id, "uuid:00000000-8086-8086-8086-000000000001");
    CU_ASSERT_EQUAL(reply.return_value, 0);
    xmlFreeDoc(doc);
}

/* A reply written out by hand around a given Action and Body. */
static int
reply_result(const char *headers, const char *body, char *detail, size_t size)
{
    char text[4096];
    struct wsman_reply reply;
    xmlDocPtr doc;
    int r;

    snprintf(text, sizeof(text),
             "<s:Envelope xmlns:s=\"" WSMAN_ENV_NS "\" xmlns:a=\"" WSMAN_WSA_NS
             "\" xmlns:n=\"" WSMAN_WSEN_NS "\" xmlns:p=\"" PKMS
             "\"><s:Header>%s</s:Header>"
             "<s:Body>%s</s:Body></s:Envelope>",
             headers, body);
    doc = parse_text(text);
    r = wsman_reply_parse(doc, &reply, detail, size);
    xmlFreeDoc(doc);
    return r;
}

#define RELATES "<a:RelatesTo>uuid:1</a:RelatesTo>"
#define ACTION(x) "<a:Action>" x "</a:Action>"

static void
test_reply_refusals(void)
{
    char detail[256], ctx[400];
    struct wsman_reply reply;
    xmlDocPtr doc;

    CU_ASSERT_EQUAL(reply_result(RELATES, "", detail, sizeof(detail)),
                    AMT_ERR_WSMAN_HEADER);
    CU_ASSERT_STRING_EQUAL(detail, "missing wsa:Action header");
    CU_ASSERT_EQUAL(
        reply_result(ACTION(WSMAN_ACTION_PUT_RESPONSE), "", detail, sizeof(detail)),
        AMT_ERR_WSMAN_HEADER);
    CU_ASSERT_STRING_EQUAL(detail, "missing wsa:RelatesTo header");
    CU_ASSERT_EQUAL(reply_result(RELATES ACTION(WSMAN_ACTION_PUT_RESPONSE), "", NULL, 0),
                    0);
    CU_ASSERT_EQUAL(reply_result(RELATES ACTION(WSMAN_ACTION_GET_RESPONSE), "", NULL, 0),
                    AMT_ERR_WSMAN_BODY);
    CU_ASSERT_EQUAL(reply_result(RELATES ACTION(WSMAN_ACTION_ENUMERATE_RESPONSE),
                                 "<n:EnumerateResponse/>", NULL, 0),
                    AMT_ERR_WSMAN_BODY);
    CU_ASSERT_EQUAL(
        reply_result(RELATES ACTION(WSMAN_ACTION_ENUMERATE_RESPONSE), "", NULL, 0),
        AMT_ERR_WSMAN_BODY);
    CU_ASSERT_EQUAL(reply_result(RELATES ACTION(WSMAN_ACTION_PULL_RESPONSE),
                                 "<n:EnumerateResponse/>", NULL, 0),
                    AMT_ERR_WSMAN_BODY);
    snprintf(ctx, sizeof(ctx),
             "<n:PullResponse><n:EnumerationContext>%0200d</n:EnumerationContext>"
             "</n:PullResponse>",
             0);
    CU_ASSERT_EQUAL(
        reply_result(RELATES ACTION(WSMAN_ACTION_PULL_RESPONSE), ctx, NULL, 0),
        AMT_ERR_WSMAN_BODY);
    CU_ASSERT_EQUAL(
        reply_result(RELATES ACTION("urn:what"), "<x/>", detail, sizeof(detail)),
        AMT_ERR_WSMAN_ACTION);
    CU_ASSERT_STRING_EQUAL(detail, "reply action urn:what not understood");
    CU_ASSERT_EQUAL(reply_result(RELATES ACTION("urn:what"), "", NULL, 0),
                    AMT_ERR_WSMAN_ACTION);
    CU_ASSERT_EQUAL(reply_result(RELATES ACTION("urn:what"), "<_OUTPUT/>", NULL, 0),
                    AMT_ERR_WSMAN_ACTION);
    CU_ASSERT_EQUAL(
        reply_result(RELATES ACTION(PKMS "/MResponse"), "<M_OUTPUT/>", NULL, 0),
        AMT_ERR_WSMAN_ACTION);
    CU_ASSERT_EQUAL(
        reply_result(RELATES ACTION(PKMS "/NResponse"),
                     "<p:M_OUTPUT><p:ReturnValue>0</p:ReturnValue></p:M_OUTPUT>", detail,
                     sizeof(detail)),
        AMT_ERR_WSMAN_ACTION);
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, "does not answer M"));
    CU_ASSERT_EQUAL(
        reply_result(RELATES ACTION("urn:otherResponse"),
                     "<p:M_OUTPUT><p:ReturnValue>0</p:ReturnValue></p:M_OUTPUT>", NULL,
                     0),
        AMT_ERR_WSMAN_ACTION);
    CU_ASSERT_EQUAL(reply_result(RELATES ACTION(PKMS "/MResponse"), "<p:M_OUTPUT/>",
                                 detail, sizeof(detail)),
                    AMT_ERR_WSMAN_BODY);
    CU_ASSERT_STRING_EQUAL(detail, "M_OUTPUT without a numeric ReturnValue");
    CU_ASSERT_EQUAL(
        reply_result(RELATES ACTION(PKMS "/MResponse"),
                     "<p:M_OUTPUT><p:ReturnValue>-1</p:ReturnValue></p:M_OUTPUT>", NULL,
                     0),
        AMT_ERR_WSMAN_BODY);

    doc = parse_text("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                     "<s:Body/></s:Envelope>");
    CU_ASSERT_EQUAL(wsman_reply_parse(doc, &reply, detail, sizeof(detail)),
                    AMT_ERR_SOAP_ENVELOPE);
    CU_ASSERT_EQUAL(wsman_reply_parse(doc, NULL, NULL, 0), AMT_ERR_INVALID_ARGUMENT);
    xmlFreeDoc(doc);
}

static CU_TestInfo helper_tests[] = {
    {"class URIs", test_class_uri},
    {"message IDs", test_message_id},
    {"fault table", test_fault_table},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo round_trip_tests[] = {
    {"Get", test_get_round_trip},
    {"selectors", test_selectors},
    {"Put", test_put_round_trip},
    {"Delete", test_delete_round_trip},
    {"Delete written by others", test_delete_written_by_others},
    {"Enumerate", test_enumerate_round_trip},
    {"Pull and EndOfSequence", test_pull_round_trip},
    {"Invoke", test_invoke_round_trip},
    {"AMT-style reply", test_amt_style_reply},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo refusal_tests[] = {
    {"request builder", test_request_builder_refusals},
    {"response builders", test_response_builder_refusals},
    {"missing headers", test_missing_headers},
    {"envelope", test_envelope_refused},
    {"unsupported actions", test_unsupported_actions},
    {"bodies that do not fit", test_bodies_that_do_not_fit},
    {"bad selectors", test_bad_selectors},
    {"selectors at the cap", test_selectors_at_cap},
    {"selector count cap when building", test_selector_count_cap},
    {"replies", test_reply_refusals},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo fault_tests[] = {
    {"each fault round trips", test_faults_round_trip},
    {"reason and detail", test_fault_with_reason_and_detail},
    {"fault from a failed parse", test_fault_from_failed_parse},
    {"faults written by others", test_foreign_faults},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"wsman helpers", NULL, NULL, NULL, NULL, helper_tests},
    {"wsman round trips", NULL, NULL, NULL, NULL, round_trip_tests},
    {"wsman refusals", NULL, NULL, NULL, NULL, refusal_tests},
    {"wsman faults", NULL, NULL, NULL, NULL, fault_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_wsman", suites);
}
