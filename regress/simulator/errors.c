/*
 * errors.c — Meta's error codes with the HTTP status, title and details
 * text Graph sends (cloud-api.md section 2).  Titles are the ones from
 * Meta's "Error codes" page; clients must key on code + details anyway.
 */
#include "errors.h"
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct error_def
{
	int			code;
	int			http;
	const char *title;
	const char *details;
} error_def;

static const error_def catalog[] = {
	{0, 401, "AuthException", "Unable to authenticate the app user."},
	{1, 400, "An unknown error occurred", "Invalid request or possible server error."},
	{2, 503, "Service temporarily unavailable", "Temporary due to downtime or due to being overloaded."},
	{3, 500, "API Method", "Capability or permissions issue."},
	{4, 400, "Application request limit reached", "The app has reached its API call rate limit."},
	{10, 403, "Permission denied", "Permission is either not granted or has been removed."},
	{33, 400, "Parameter value is not valid", "The business phone number has been deleted."},
	{100, 400, "Invalid parameter", "Invalid parameter."},
	{190, 401, "Invalid OAuth access token", "Access token has expired."},
	{200, 403, "Permissions error", "Permission is either not granted or has been removed."},
	{368, 403, "Temporarily blocked for policies violations", "The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy."},
	{80007, 400, "There have been too many calls to this WhatsApp Business account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.", "The WhatsApp Business Account has reached its rate limit."},
	{80008, 400, "There have been too many calls to this WhatsApp Business account. Wait a bit and try again.", "Too many calls to the template endpoint of this WhatsApp Business Account."},
	{130429, 400, "Rate limit hit", "Cloud API message throughput has been reached."},
	{130472, 400, "User's number is part of an experiment", "Failed to send message because this user's phone number is part of an experiment."},
	{130497, 403, "Business account is restricted from messaging users in this country", "The business is restricted from messaging users in this country."},
	{131000, 500, "Something went wrong", "Message failed to send due to an unknown error."},
	{131005, 403, "Access denied", "Permission is either not granted or has been removed."},
	{131008, 400, "Required parameter is missing", "The request is missing a required parameter."},
	{131009, 400, "Parameter value is not valid", "One or more parameter values are invalid."},
	{131016, 500, "Service unavailable", "A service is temporarily unavailable."},
	{131021, 400, "Recipient cannot be sender", "Sender and recipient phone number is the same."},
	{131026, 400, "Message Undeliverable", "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted our new Terms of Service and Privacy Policy; the recipient is using an old WhatsApp version."},
	{131030, 400, "Recipient phone number not in allowed list", "Add recipient phone number to recipient list and try again."},
	{131031, 403, "Account has been locked", "The Business Account was locked because of a policy violation or an incorrect two-step verification PIN."},
	{131037, 400, "WhatsApp provided number needs display name approval before message can be sent.", "The 555 business phone number needs an approved display name."},
	{131042, 400, "Business eligibility payment issue", "Message failed to send because there were one or more errors related to your payment method."},
	{131045, 500, "Incorrect certificate", "Message failed to send due to a phone number registration error."},
	{131047, 400, "Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
	{131048, 400, "Spam rate limit hit", "Message failed to send because there are restrictions on how many messages can be sent from this phone number. This may be because too many previous messages were blocked or flagged as spam."},
	{131049, 400, "This message was not delivered to maintain healthy ecosystem engagement.", "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},
	{131050, 400, "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.", "The recipient has stopped marketing messages from this business."},
	{131051, 400, "Unsupported message type", "Message type is not currently supported."},
	{131052, 400, "Media download error", "Unable to download the media sent by the user."},
	{131053, 400, "Media upload error", "Unable to upload the media used in the message."},
	{131055, 400, "Method not allowed", "The method is not allowed for this number or product."},
	{131056, 400, "(Business Account, Consumer Account) pair rate limit hit", "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."},
	{131057, 500, "Account in maintenance mode", "Business Account is in maintenance mode."},
	{132000, 400, "Number of parameters does not match the expected number of params", "The number of variable parameter values does not match the number of variables defined in the template."},
	{132001, 404, "Template name does not exist in the translation", "The template does not exist in the specified language or the template has not been approved."},
	{132005, 400, "Translated text too long", "Translated text is too long."},
	{132007, 400, "Template Format Character Policy Violated", "Template content violates a WhatsApp policy."},
	{132012, 400, "Parameter format does not match format in the created template", "Variable parameter values formatted incorrectly."},
	{132015, 400, "Template is Paused", "Template is paused due to low quality so it cannot be sent in a template message."},
	{132016, 400, "Template is Disabled", "Template has been paused too many times due to low quality and is now permanently disabled."},
	{132068, 400, "Flow is in blocked state", "Flow is in blocked state."},
	{132069, 400, "Flow is in throttled state", "Flow is in throttled state and 10 messages using this flow were already sent in the last hour."},
	{133004, 503, "Server temporarily unavailable", "Server is temporarily unavailable."},
	{133010, 400, "Phone number Not Registered", "The phone number is not registered on the WhatsApp Business Platform."},
	{135000, 400, "Generic user error", "Message failed to send because of an unknown error with your request parameters."},
};

static const error_def *
lookup(int code)
{
	for (size_t i = 0; i < sizeof(catalog) / sizeof(catalog[0]); i++)
		if (catalog[i].code == code)
			return &catalog[i];
	return NULL;
}

/* Codes outside the catalog (scripted by a test) still get a sane answer. */
int
meta_error_http(int code)
{
	const error_def *d = lookup(code);

	return d ? d->http : 400;
}

const char *
meta_error_title(int code)
{
	const error_def *d = lookup(code);

	return d ? d->title : "Simulated error";
}

const char *
meta_error_details(int code)
{
	const error_def *d = lookup(code);

	return d ? d->details : "Error scripted by the simulator.";
}

/*
 * {"error":{"message":..,"type":..,"code":..,"error_data":{..},
 *  "error_subcode":..,"fbtrace_id":..}} — member order as Graph sends it.
 */
void
meta_error_json(sbuf *b, const meta_error *e)
{
	char		trace[24];
	const char *details = e->details ? e->details : meta_error_details(e->code);

	sbuf_puts(b, "{\"error\":{\"message\":");
	if (e->message)
		sbuf_json_str(b, e->message);
	else
	{
		char		msg[512];

		snprintf(msg, sizeof(msg), "(#%d) %s", e->code, meta_error_title(e->code));
		sbuf_json_str(b, msg);
	}
	sbuf_puts(b, ",\"type\":");
	sbuf_json_str(b, e->type ? e->type : "OAuthException");
	if (e->transient)
		sbuf_puts(b, ",\"is_transient\":true");
	sbuf_printf(b, ",\"code\":%d", e->code);
	if (*details)
	{
		sbuf_puts(b, ",\"error_data\":{\"messaging_product\":\"whatsapp\",\"details\":");
		sbuf_json_str(b, details);
		sbuf_putc(b, '}');
	}
	if (e->subcode)
		sbuf_printf(b, ",\"error_subcode\":%d", e->subcode);
	fbtrace_id(trace);
	sbuf_printf(b, ",\"fbtrace_id\":\"%s\"}}", trace);
}

void
reply_free(sim_reply *r)
{
	free(r->body);
	free(r->usage_header);
	r->body = NULL;
	r->usage_header = NULL;
}

void
reply_sbuf(sim_reply *r, int status, sbuf *b)
{
	free(r->body);
	r->status = status;
	r->body = sbuf_steal(b, &r->len);
	r->content_type = "application/json";
}

void
reply_text(sim_reply *r, int status, const char *text)
{
	free(r->body);
	r->status = status;
	r->body = xstrdup(text);
	r->len = strlen(text);
	r->content_type = "text/plain; charset=utf-8";
}

void
reply_error(sim_reply *r, const meta_error *e)
{
	sbuf		b;

	sbuf_init(&b, 512);
	meta_error_json(&b, e);
	reply_sbuf(r, e->http ? e->http : meta_error_http(e->code), &b);
}

void
reply_code(sim_reply *r, int code, const char *details)
{
	meta_error	e = {.code = code, .details = details};

	reply_error(r, &e);
}

/* Control-API failures: {"ok":false,"error":"..."}. */
void
reply_sim_error(sim_reply *r, int status, const char *msg)
{
	sbuf		b;

	sbuf_init(&b, 128);
	sbuf_puts(&b, "{\"ok\":false,\"error\":");
	sbuf_json_str(&b, msg);
	sbuf_puts(&b, "}\n");
	reply_sbuf(r, status, &b);
}
