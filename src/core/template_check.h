/*
 * template_check.h
 *		A template send against the template Meta approved: the body's
 *		positional count or named parameters, the header's format, each
 *		button's sub_type and index, the lengths once filled in, and the
 *		category Meta bills it at.  What Meta would refuse with 132000,
 *		132012, 132005 or 131008 is refused before it is queued, naming the
 *		field: "template.components.0.parameters: the body of oferta_cdb
 *		(pt_BR) takes 2 parameters, 1 given".
 *
 * Both sides are read through JsonView (payload.h): the send is the payload
 * ("template.components.0.parameters.1.text"), the approved template is
 * Meta's components array as GET /message_templates returns it
 * ("0.type" = "BODY", "0.text" = "Olá {{1}}").  The send has already passed
 * payload_validate(): its shape is right, only the fit is checked here.
 */
#ifndef ANTIBAN_TEMPLATE_CHECK_H
#define ANTIBAN_TEMPLATE_CHECK_H

#include "payload.h"

typedef struct TemplateSpec
{
	const char *name;
	const char *language;
	/* MARKETING, UTILITY or AUTHENTICATION as billed at send time; NULL: unknown */
	const char *category;
	/* Meta's components array (at path ""); NULL: not synced yet, not compared */
	const JsonView *components;
} TemplateSpec;

/* send_category: the send's own (marketing, utility, authentication). */
extern bool template_check(const TemplateSpec *t, const JsonView *send,
						   const char *send_category, PayloadError *err);

/* The name among names closest to name (a likely typo), or NULL if none is close. */
extern const char *template_closest_name(const char *name, const char *const *names, int n);

#endif							/* ANTIBAN_TEMPLATE_CHECK_H */
