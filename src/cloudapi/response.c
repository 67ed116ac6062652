/*
 * response.c
 *		Parsing Cloud API answers with json-c (Debian's JSON library).
 *
 * Success: {"contacts":[{"input":"+55...","wa_id":"55..."}],
 * "messages":[{"id":"wamid..."}]} or, for read receipts, {"success":true}.
 * contacts[0].wa_id is who Meta took the recipient for: kept, because it
 * is what inbound messages and statuses will call the same person.  Error: {"error":{"message":"(#131000) ...","code":...,
 * "error_data":{"details":"..."},"fbtrace_id":"..."}}.  Key on the code and
 * details; "message" is kept as the title (Meta is deprecating titles).
 */
#include "response.h"

#include <stdio.h>
#include <string.h>

#include <json.h>

static const char *
string_at(json_object *o, const char *key)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static json_object *
object_at(json_object *o, const char *key)
{
	json_object *v;

	return (o && json_object_object_get_ex(o, key, &v)) ? v : NULL;
}

static void
copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void
parse_error(json_object *err, ApiAnswer *out)
{
	json_object *code = object_at(err, "code");

	out->error_code = code ? json_object_get_int(code) : 0;
	copy(out->error_title, sizeof(out->error_title), string_at(err, "message"));
	copy(out->error_details, sizeof(out->error_details),
		 string_at(object_at(err, "error_data"), "details"));
	copy(out->fbtrace_id, sizeof(out->fbtrace_id), string_at(err, "fbtrace_id"));
}

/* contacts[0]: input, wa_id, user_id (each "" when absent or too long to be one). */
static void
parse_contact(json_object *contacts, ApiAnswer *out)
{
	json_object *c;
	const char *v;

	if (!contacts || !json_object_is_type(contacts, json_type_array) ||
		json_object_array_length(contacts) == 0)
		return;
	c = json_object_array_get_idx(contacts, 0);
	if ((v = string_at(c, "input")) && strlen(v) < sizeof(out->input))
		copy(out->input, sizeof(out->input), v);
	if ((v = string_at(c, "wa_id")) && strlen(v) < sizeof(out->wa_id))
		copy(out->wa_id, sizeof(out->wa_id), v);
	if ((v = string_at(c, "user_id")) && strlen(v) < sizeof(out->user_id))
		copy(out->user_id, sizeof(out->user_id), v);
}

void
cloudapi_parse_answer(const char *body, size_t len, long http_status, ApiAnswer *out)
{
	json_tokener *tok = json_tokener_new();
	json_object *root = tok ? json_tokener_parse_ex(tok, body, (int) len) : NULL;
	json_object *messages;
	json_object *success;

	memset(out, 0, sizeof(*out));
	out->error_code = -1;
	if (root && object_at(root, "error"))
		parse_error(object_at(root, "error"), out);
	else if (root && http_status >= 200 && http_status < 300)
	{
		messages = object_at(root, "messages");
		success = object_at(root, "success");
		if (messages && json_object_is_type(messages, json_type_array) &&
			json_object_array_length(messages) > 0)
			copy(out->wamid, sizeof(out->wamid),
				 string_at(json_object_array_get_idx(messages, 0), "id"));
		out->ok = out->wamid[0] != '\0' || (success && json_object_get_boolean(success));
		if (out->wamid[0] != '\0')
			parse_contact(object_at(root, "contacts"), out);
	}
	if (!out->ok && out->error_code < 0)
		snprintf(out->error_title, sizeof(out->error_title),
				 "HTTP %ld with an unreadable body", http_status);
	if (root)
		json_object_put(root);
	if (tok)
		json_tokener_free(tok);
}
