/*
 * template_lookup.h
 *		A template send against the template Meta approved, as
 *		antiban.templates holds it (template_lookup.c).
 */
#ifndef ANTIBAN_TEMPLATE_LOOKUP_H
#define ANTIBAN_TEMPLATE_LOOKUP_H

#include "utils/jsonb.h"

#include "core/decision.h"

/*
 * Raises an error, naming the field, when the send does not fit the
 * template, or when the name is unknown in a catalogue antiban has synced.
 * Call with SPI connected, as antiban's owner (privileged_begin).
 */
extern void template_check_or_error(Jsonb *payload, Category category, const char *from_number,
									const char *portfolios);

/*
 * The template a set of sends checks against, looked up once for all the
 * sends of one name and language from one sender or portfolio scope
 * (zeroed: none yet).
 */
typedef struct TemplateMemo
{
	char	   *name;			/* as the sends name it */
	char	   *language;
	bool		known;			/* false: nothing synced to check against */
	char	   *category;		/* the one Meta bills at now */
	Jsonb	   *components;		/* NULL: known from webhooks only */
} TemplateMemo;

extern void template_check_memo(TemplateMemo *memo, Jsonb *payload, Category category,
								const char *from_number, const char *portfolios);

#endif							/* ANTIBAN_TEMPLATE_LOOKUP_H */
