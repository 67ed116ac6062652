/*
 * payload.h
 *		Meta's documented limits on message payloads, checked before a
 *		message is queued, so a bad payload fails at the caller with the
 *		field named instead of as a 100/131008 from Meta later.
 *
 * The payload is read through JsonView, so this file needs no JSON library:
 * the PostgreSQL adapter answers over jsonb, the unit tests over a fake.
 * Paths are dotted, array elements by index: "interactive.action.buttons.0.reply.title".
 */
#ifndef ANTIBAN_PAYLOAD_H
#define ANTIBAN_PAYLOAD_H

#include <stdbool.h>

typedef enum JsonKind
{
	JSON_MISSING,
	JSON_NULL,
	JSON_STRING,
	JSON_NUMBER,
	JSON_BOOL,
	JSON_OBJECT,
	JSON_ARRAY
} JsonKind;

typedef struct JsonView
{
	void	   *ctx;
	JsonKind	(*kind) (void *ctx, const char *path);
	/* characters of a string (code points), elements of an array */
	long		(*size) (void *ctx, const char *path);
	bool		(*text_is) (void *ctx, const char *path, const char *value);
	/* a string's first bytes, for checks such as "https://" */
	bool		(*text_starts) (void *ctx, const char *path, const char *prefix);
	double		(*number) (void *ctx, const char *path);
	/* a string's bytes (UTF-8, not NUL-terminated); false if not a string */
	bool		(*text) (void *ctx, const char *path, const char **bytes, long *len);
} JsonView;

typedef struct PayloadError
{
	char		field[128];
	char		message[256];
	char		hint[256];		/* what to do instead; may be empty */
} PayloadError;

/* Marking an inbound message read: not a message, but it goes to /messages too. */
#define PAYLOAD_READ_RECEIPT "read_receipt"

/*
 * 'type' is the Cloud API message type; the payload holds "<type>": {...}
 * (for a read receipt: status, message_id, typing_indicator).  Keys the
 * sender sets from the call's arguments ("to", "type", ...) are refused.
 * JsonView's size of "" is the number of keys of the payload itself.
 */
extern bool payload_validate(const char *type, const JsonView *v, PayloadError *err);
extern bool payload_type_known(const char *type);
extern bool payload_type_is_template(const char *type);

#endif							/* ANTIBAN_PAYLOAD_H */
