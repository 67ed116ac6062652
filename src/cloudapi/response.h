/*
 * response.h
 *		What a Cloud API answer said: the message id and whom Meta took the
 *		recipient for, or Meta's error.
 */
#ifndef ANTIBAN_CLOUDAPI_RESPONSE_H
#define ANTIBAN_CLOUDAPI_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ApiAnswer
{
	bool		ok;				/* messages[0].id or "success": true */
	char		wamid[160];
	/* contacts[0]: what we sent to, and Meta's identity for it ("" if absent) */
	char		input[257];
	char		wa_id[32];		/* a phone's id; in Brazil often without the ninth digit */
	char		user_id[257];	/* a business-scoped user id, for sends to one */
	int			error_code;		/* -1: no error object */
	char		error_title[256];
	char		error_details[512];
	char		fbtrace_id[64];
} ApiAnswer;

/* Parse a body (not NUL-terminated) into 'out'; never fails, only reports. */
extern void cloudapi_parse_answer(const char *body, size_t len, long http_status, ApiAnswer *out);

#endif							/* ANTIBAN_CLOUDAPI_RESPONSE_H */
