/*
 * pricing_category.h
 *		What a status webhook's pricing object means for the bill: which
 *		column of the rate card prices it, whether it is charged at all,
 *		and which monthly volume counter it moves.
 *
 * Rules (shared/pricing.md section 4): only type "regular" is charged;
 * the webhook's category, not the template's, picks the column
 * (marketing_lite and group_marketing are priced as marketing,
 * group_utility as utility, group_service as service, both spellings of
 * authentication-international as that column); service messages fall
 * back to the utility rate on cards without a Service column.  Volume
 * tiers count utility on one counter and authentication plus
 * authentication-international on another (the count continues when a
 * business becomes subject to the international rate mid-month);
 * marketing and service have no tiers.
 */
#ifndef ANTIBAN_PRICING_CATEGORY_H
#define ANTIBAN_PRICING_CATEGORY_H

#include <stdbool.h>

typedef enum RateColumn
{
	RATE_NONE = -1,				/* not priced per message (referral_conversion, unknown) */
	RATE_MARKETING = 0,
	RATE_UTILITY,
	RATE_AUTHENTICATION,
	RATE_AUTHENTICATION_INTERNATIONAL,
	RATE_SERVICE,
	RATE_NCOLUMNS
} RateColumn;

/* The rate card's own names: marketing, utility, ..., service. */
extern const char *const rate_column_names[RATE_NCOLUMNS];

/* The column that prices a webhook's pricing.category (any case). */
extern RateColumn rate_column_of_category(const char *category);

/* The column to use when a card has no price in 'column' (RATE_NONE: none). */
extern RateColumn rate_column_fallback(RateColumn column);

/* Is a message with this pricing.type charged (only "regular")? */
extern bool pricing_type_charged(const char *type);

/* The volume-tier counter a charged message of this column moves, or NULL (no tiers). */
extern const char *tier_counter_of(RateColumn column);

#endif							/* ANTIBAN_PRICING_CATEGORY_H */
