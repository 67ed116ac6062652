/*
 * validate.h — validation of POST /{phone-number-id}/messages bodies
 * against the shapes and limits in cloud-api.md section 1.
 */
#ifndef VALIDATE_H
#define VALIDATE_H

#include <json-c/json.h>
#include <stdbool.h>

typedef enum msg_type
{
	MT_TEXT,
	MT_IMAGE,
	MT_AUDIO,
	MT_VIDEO,
	MT_DOCUMENT,
	MT_STICKER,
	MT_LOCATION,
	MT_CONTACTS,
	MT_INTERACTIVE,
	MT_TEMPLATE,
	MT_REACTION,
	MT__COUNT
} msg_type;

extern const char *const msg_type_names[MT__COUNT];

/* What the rest of the pipeline needs from a valid body.  Strings point
 * into the parsed JSON and live as long as it does. */
typedef struct send_request
{
	bool		mark_read;
	const char *message_id;		/* mark-as-read target */
	msg_type	type;
	const char *to;				/* as given: echoed in contacts[].input */
	bool		is_bsuid;
	char		wa_id[24];		/* digits of to; "" for BSUID/group */
	char		recipient[264]; /* key for pair/limit tracking */
	const char *template_name;
	const char *template_lang;
	int			body_params;	/* body parameters in the template send */
	json_object *template_components;	/* the send's components, or NULL */
	const char *callback;		/* biz_opaque_callback_data or NULL */
} send_request;

typedef struct verr
{
	int			code;			/* 100, 131008 or 131009 */
	char		details[320];
} verr;

bool		validate_send(json_object *root, send_request *req, verr *e);


/* Parse a request body strictly (valid UTF-8, no trailing garbage).
 * Returns NULL with a reason in err. */
json_object *json_parse_strict(const char *s, size_t len, char *err, size_t errlen);

#endif							/* VALIDATE_H */
