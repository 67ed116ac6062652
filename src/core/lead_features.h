/*
 * lead_features.h
 *		The feature space of the lead qualification model, and the words
 *		that explain each named feature.
 *
 * One integer space, shared by every model, so a model trained today can
 * score a conversation whose features were extracted last month:
 *
 *	 1 .. 99		fit signals read from the lead's text (products, amounts,
 *					horizon, intent, objections); stored per conversation as
 *					counts, presented to the model as 0/1
 *	 100 .. 199		engagement, computed when a score is taken (replies, reads,
 *					taps decaying with a half-life; silence; failures; opt-out)
 *	 1024 ..		the conversation's lexemes and lexeme pairs, hashed into
 *					2^LEAD_HASH_BITS buckets; stored as counts, presented as
 *					cosine-normalised 1 + ln(count)
 *
 * A change to any of this (a new signal, other buckets, another hash) is a
 * new LEAD_FEATURE_VERSION: models remember the version they were trained
 * with and are never used with another.
 */
#ifndef ANTIBAN_LEAD_FEATURES_H
#define ANTIBAN_LEAD_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

#define LEAD_FEATURE_VERSION 1
#define LEAD_HASH_BITS 18
#define LEAD_TEXT_BASE 1024
#define LEAD_FEATURE_SPACE (LEAD_TEXT_BASE + (1 << LEAD_HASH_BITS))	/* indices < this */

typedef enum LeadFeature
{
	/* products */
	LF_PRODUCT_CDB = 1,
	LF_PRODUCT_LCI_LCA = 2,
	LF_PRODUCT_TESOURO = 3,
	LF_PRODUCT_STOCKS = 4,
	LF_PRODUCT_FII = 5,
	LF_PRODUCT_PENSION = 6,
	LF_PRODUCT_FUNDS = 7,
	LF_PRODUCT_CRYPTO = 8,
	LF_PRODUCT_FIXED_INCOME = 9,
	LF_PRODUCT_ABROAD = 10,
	/* intent */
	LF_ASKED_YIELD = 20,
	LF_WANTS_ACCOUNT = 21,
	LF_WANTS_CALL = 22,
	LF_PORTABILITY = 23,
	LF_URGENCY = 24,
	LF_HAS_SAVINGS = 25,
	LF_ASKED_FEES = 26,
	LF_COMPETITOR = 27,
	LF_ASKED_SAFETY = 28,
	LF_ASKED_QUESTION = 29,
	LF_READY_TO_INVEST = 30,
	/* amounts, in reais (other currencies converted, see lead_signals.c) */
	LF_AMOUNT_UNDER_10K = 40,
	LF_AMOUNT_10K = 41,
	LF_AMOUNT_50K = 42,
	LF_AMOUNT_200K = 43,
	LF_AMOUNT_1M = 44,
	/* horizon */
	LF_HORIZON_SHORT = 50,
	LF_HORIZON_MEDIUM = 51,
	LF_HORIZON_LONG = 52,
	/* objections and poor fit */
	LF_NO_MONEY = 60,
	LF_JUST_CURIOUS = 61,
	LF_NOT_INTERESTED = 62,
	LF_LATER = 63,
	LF_DISTRUST = 64,
	LF_QUICK_MONEY = 65,
	LF_WANTS_LOAN = 66,
	LF_HAS_ADVISOR = 67,
	LF_STOP_REQUEST = 68,
	LF_WRONG_PERSON = 69,
	LF_FEES_OBJECTION = 70,
	/* engagement, computed at scoring time */
	LF_ENG_REPLIES = 100,
	LF_ENG_QUICK = 101,
	LF_ENG_READS = 102,
	LF_ENG_TAPS = 103,
	LF_NEVER_REPLIED = 104,
	LF_SILENT_1D = 105,
	LF_SILENT_3D = 106,
	LF_SILENT_7D = 107,
	LF_SILENT_14D = 108,
	LF_FAILURES = 109,
	LF_OPTED_OUT = 110,
	LF_BLOCKED = 111
} LeadFeature;

#define LEAD_FIT_FIRST 1
#define LEAD_FIT_LAST 99
#define LEAD_ENGAGEMENT_FIRST 100
#define LEAD_ENGAGEMENT_LAST 199

typedef struct LeadFeatureInfo
{
	int			id;
	const char *key;			/* stable, machine-readable: "product_cdb" */
	const char *pt;				/* what a Brazilian sales team reads */
	const char *en;
} LeadFeatureInfo;

/* The named feature with this id, or NULL (a hashed text feature, or unused). */
extern const LeadFeatureInfo *lead_feature_info(int id);

/* The named feature with this key, or NULL. */
extern const LeadFeatureInfo *lead_feature_by_key(const char *key);

/* Every named feature, in id order; *n receives their number. */
extern const LeadFeatureInfo *lead_feature_catalog(int *n);

static inline bool
lead_feature_is_fit(int id)
{
	return id >= LEAD_FIT_FIRST && id <= LEAD_FIT_LAST;
}

static inline bool
lead_feature_is_engagement(int id)
{
	return id >= LEAD_ENGAGEMENT_FIRST && id <= LEAD_ENGAGEMENT_LAST;
}

static inline bool
lead_feature_is_text(int id)
{
	return id >= LEAD_TEXT_BASE && id < LEAD_FEATURE_SPACE;
}

#endif							/* ANTIBAN_LEAD_FEATURES_H */
