/*
 * lead_flow.h
 *		What a conversation does to its lead: where a new lead came from,
 *		whether a new lead engaged, which stage evidence moves it to, and
 *		which score changes are worth a line on its timeline.
 *
 * Stages move forward only, and only by themselves from new and engaged:
 * new -> engaged when the person engages, new or engaged -> qualified when
 * the score reaches the portfolio's threshold.  qualified, disqualified,
 * won and lost are left to people (antiban.set_lead_stage, close_lead).
 */
#ifndef ANTIBAN_LEAD_FLOW_H
#define ANTIBAN_LEAD_FLOW_H

#include <stdbool.h>

#include "lead_engagement.h"

/* no score yet */
#define LEAD_NO_SCORE (-1)
/* a score move at least this large is news on the timeline */
#define LEAD_SCORE_NEWS_POINTS 5

typedef enum LeadSource
{
	LEAD_SOURCE_ORGANIC,		/* wrote on their own */
	LEAD_SOURCE_CTWA,			/* a click-to-WhatsApp ad's referral */
	LEAD_SOURCE_CAMPAIGN,		/* answered our marketing template */
	LEAD_SOURCE_APP,			/* registered by the app */
	LEAD_SOURCE_CTWA_POST		/* a click-to-WhatsApp referral from a post, not an ad */
} LeadSource;

/*
 * A message's referral (Meta: source_type "ad" or "post"; source_id the ad's
 * or the post's id).  Only an ad's id is an ad id.
 */
typedef enum LeadReferral
{
	LEAD_REFERRAL_NONE,
	LEAD_REFERRAL_AD,
	LEAD_REFERRAL_POST			/* "post", or any type that is not "ad" */
} LeadReferral;

extern const char *lead_source_name(LeadSource s);

/* The referral of a message: NULL source_type: none; "ad" or "" (no type given): an ad. */
extern LeadReferral lead_referral_of(const char *source_type);

/* The message that starts a lead: a referral (ad or post) wins over a campaign. */
extern LeadSource lead_source_of(LeadReferral referral, bool answers_campaign);

/*
 * Has a lead engaged: a second message, a button tap, or a message after
 * one of ours (LEAD_TIME_NEVER: never)?
 */
extern bool lead_engaged(int messages, double taps, LeadTime last_inbound, LeadTime last_outbound);

/*
 * The stage a lead moves to ("new", "engaged", "qualified", ...; NULL for a
 * stage it does not know, which it leaves alone); merged leads never move.
 */
extern const char *lead_stage_after(const char *stage, bool engaged, int score, int qualify_score,
									bool merged);

/* The first score, a move of LEAD_SCORE_NEWS_POINTS or more, or a crossing of the threshold. */
extern bool lead_score_news(int previous, int score, int qualify_score);

#endif
