/*
 * Any bytes into xmlsafe_parse with small caps; whatever it accepts goes through
 * both sides' SOAP and WS-Management readers. Whatever the readers accept is
 * answered with this module's builders, and that answer must parse again and read
 * back as the reply to the same request: the builders never write what the
 * readers refuse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "soap.h"
#include "wsman.h"
#include "xmlsafe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Serializes m, frees it, and parses it back with the default caps. */
static xmlDocPtr
reparse(void *m, int (*text_of)(const void *, char **, size_t *))
{
    char *text = NULL;
    size_t len = 0;
    xmlDocPtr doc = NULL;

    if (text_of(m, &text, &len) != 0 || xmlsafe_parse(text, len, NULL, &doc) != 0)
        abort();
    free(text);
    return doc;
}

static int
soap_text(const void *m, char **text, size_t *len)
{
    return soap_msg_text(m, text, len);
}

static int
wsman_text(const void *m, char **text, size_t *len)
{
    return wsman_msg_text(m, text, len);
}

/* The same request built anew must read back the same. */
static void
rebuild_soap(const struct soap_call *call)
{
    struct soap_msg *m = NULL;
    struct soap_call again;
    char action[2048];
    xmlDocPtr doc;

    if (soap_request_new(call->ns, call->name, &m) != 0)
        return; /* no namespace, or one that cannot be declared */
    snprintf(action, sizeof(action), "%s", soap_msg_action(m));
    doc = reparse(m, soap_text);
    soap_msg_free(m);
    if (soap_call_parse(doc, &again) != 0 || strcmp(again.name, call->name) != 0 ||
        strcmp(again.ns, call->ns) != 0 || !soap_call_action_matches(&again, action))
        abort();
    xmlFreeDoc(doc);
}

static void
answer_soap(const struct soap_call *call)
{
    struct soap_msg *m = NULL;
    struct soap_reply reply;
    xmlDocPtr doc;

    if (soap_response_new(call->ns, call->name, SOAP_STATUS_INVALID_PARAMETER, &m) != 0)
        return;
    if (soap_msg_add(m, NULL, "Echo", call->name, NULL) != 0)
        abort();
    doc = reparse(m, soap_text);
    soap_msg_free(m);
    if (soap_reply_parse(doc, call->ns, call->name, &reply) != 0 ||
        reply.status != SOAP_STATUS_INVALID_PARAMETER ||
        soap_reply_get_at(&reply, 1) == NULL)
        abort();
    xmlFreeDoc(doc);
}

static void
rebuild_wsman(const struct wsman_call *call)
{
    const char *arg = call->kind == WSMAN_PULL     ? call->context
                      : call->kind == WSMAN_INVOKE ? call->method
                                                   : NULL;
    struct wsman_msg *m = NULL;
    struct wsman_call *again;
    xmlDocPtr doc;
    int r;

    r = wsman_request_new(call->kind, call->to, call->resource_uri, arg, &m);
    if (r == AMT_ERR_INVALID_ARGUMENT &&
        (call->kind == WSMAN_PUT || call->kind == WSMAN_INVOKE))
        return; /* the resource URI cannot be a namespace */
    if (r != 0)
        abort();
    for (size_t i = 0; i < call->selector_count; i++)
        if (wsman_msg_selector(m, call->selectors[i].name, call->selectors[i].value) != 0)
            abort();
    doc = reparse(m, wsman_text);
    wsman_msg_free(m);
    if ((again = malloc(sizeof(*again))) == NULL)
        abort();
    if (wsman_call_parse(doc, again, NULL, 0) != 0 || again->kind != call->kind ||
        strcmp(again->action, call->action) != 0 || strcmp(again->to, call->to) != 0 ||
        strcmp(again->resource_uri, call->resource_uri) != 0 ||
        strcmp(again->method, call->method) != 0 ||
        strcmp(again->context, call->context) != 0 ||
        again->selector_count != call->selector_count)
        abort();
    for (size_t i = 0; i < call->selector_count; i++)
        if (strcmp(again->selectors[i].name, call->selectors[i].name) != 0 ||
            strcmp(again->selectors[i].value, call->selectors[i].value) != 0)
            abort();
    free(again);
    xmlFreeDoc(doc);
}

static void
answer_wsman(const struct wsman_call *call, int parse_result)
{
    struct wsman_msg *m = NULL;
    struct wsman_reply reply;
    enum wsman_kind kind = call->kind;
    xmlDocPtr doc;
    int r;

    if (parse_result != 0) {
        if (call->fault == WSMAN_FAULT_NONE)
            return;
        r = wsman_fault_new(call, call->fault, NULL, NULL, &m);
        kind = WSMAN_UNKNOWN;
    } else if (kind == WSMAN_GET || kind == WSMAN_PUT || kind == WSMAN_INVOKE) {
        /* These need the resource URI as a namespace and may refuse it. */
        if (kind == WSMAN_INVOKE)
            r = wsman_invoke_response_new(call, 7, &m);
        else
            r = wsman_response_new(call, &m);
        if (r == AMT_ERR_INVALID_ARGUMENT)
            return;
    } else if (kind == WSMAN_ENUMERATE) {
        r = wsman_enumerate_response_new(call, "ctx", &m);
    } else {
        if ((r = wsman_pull_response_new(call, NULL, true, &m)) == 0)
            wsman_msg_item(m, call->resource_uri, NULL);
    }
    if (r != 0)
        abort();
    doc = reparse(m, wsman_text);
    wsman_msg_free(m);
    r = wsman_reply_parse(doc, &reply, NULL, 0);
    if (parse_result != 0) {
        if (r != AMT_ERR_SOAP_FAULT || reply.fault != call->fault ||
            strcmp(reply.relates_to, call->message_id) != 0)
            abort();
    } else if (r != 0 || reply.kind != kind ||
               strcmp(reply.relates_to, call->message_id) != 0 ||
               (kind == WSMAN_INVOKE && reply.return_value != 7) ||
               (kind == WSMAN_PULL && !reply.end_of_sequence)) {
        abort();
    }
    xmlFreeDoc(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct xmlsafe_limits lim = {.max_bytes = 64 * 1024, .max_depth = 24};
    char detail[XMLSAFE_DETAIL_MAX];
    struct soap_call call;
    struct soap_reply sreply;
    struct wsman_call *wcall = NULL;
    struct wsman_reply *wreply = NULL;
    xmlDocPtr doc = NULL;
    int r;

    if (xmlsafe_parse_detail((const char *)data, size, &lim, &doc, detail,
                             sizeof(detail)) != 0) {
        if (doc != NULL || detail[0] == '\0')
            abort();
        return 0;
    }
    if (soap_call_parse(doc, &call) == 0) {
        soap_call_param(&call, "Username");
        soap_call_action_matches(&call, "\"urn:x#M\"");
        rebuild_soap(&call);
        answer_soap(&call);
    }
    soap_reply_parse(doc, NULL, NULL, &sreply);

    wcall = malloc(sizeof(*wcall));
    wreply = malloc(sizeof(*wreply));
    if (wcall == NULL || wreply == NULL)
        abort();
    r = wsman_call_parse(doc, wcall, detail, sizeof(detail));
    if (r == 0) {
        wsman_call_selector(wcall, "InstanceID");
        rebuild_wsman(wcall);
    }
    answer_wsman(wcall, r);
    wsman_reply_parse(doc, wreply, detail, sizeof(detail));
    free(wcall);
    free(wreply);
    xmlFreeDoc(doc);
    return 0;
}
