/*
 * pricing_category.c
 *		Webhook pricing category and type -> rate card column, charge and
 *		tier counter (see pricing_category.h).
 */
#include "core/pricing_category.h"

#include <stddef.h>
#include <strings.h>

const char *const rate_column_names[RATE_NCOLUMNS] = {
	"marketing", "utility", "authentication", "authentication_international", "service"
};

typedef struct CategoryColumn
{
	const char *category;
	RateColumn	column;
} CategoryColumn;

static const CategoryColumn categories[] = {
	{"marketing", RATE_MARKETING},
	{"marketing_lite", RATE_MARKETING},	/* Marketing Messages API: Cloud API marketing rates */
	{"group_marketing", RATE_MARKETING},
	{"utility", RATE_UTILITY},
	{"group_utility", RATE_UTILITY},
	{"authentication", RATE_AUTHENTICATION},
	{"authentication_international", RATE_AUTHENTICATION_INTERNATIONAL},
	{"authentication-international", RATE_AUTHENTICATION_INTERNATIONAL},
	{"service", RATE_SERVICE},
	{"group_service", RATE_SERVICE},
};

RateColumn
rate_column_of_category(const char *category)
{
	if (category == NULL)
		return RATE_NONE;
	for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
		if (strcasecmp(categories[i].category, category) == 0)
			return categories[i].column;
	return RATE_NONE;
}

RateColumn
rate_column_fallback(RateColumn column)
{
	/* since 2026-10-01 service is billed at the utility rate */
	return column == RATE_SERVICE ? RATE_UTILITY : RATE_NONE;
}

bool
pricing_type_charged(const char *type)
{
	return type != NULL && strcasecmp(type, "regular") == 0;
}

const char *
tier_counter_of(RateColumn column)
{
	switch (column)
	{
		case RATE_UTILITY:
			return "utility";
		case RATE_AUTHENTICATION:
		case RATE_AUTHENTICATION_INTERNATIONAL:
			return "authentication";
		default:
			return NULL;
	}
}
