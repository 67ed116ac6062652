/*
 * lead_flow.c
 *		What a conversation does to its lead (see lead_flow.h).
 */
#include "lead_flow.h"

#include <stdlib.h>
#include <string.h>

static const char *const source_names[] = {
	[LEAD_SOURCE_ORGANIC] = "organic",
	[LEAD_SOURCE_CTWA] = "ctwa",
	[LEAD_SOURCE_CAMPAIGN] = "campaign",
	[LEAD_SOURCE_APP] = "app",
	[LEAD_SOURCE_CTWA_POST] = "ctwa_post",
};

const char *
lead_source_name(LeadSource s)
{
	return source_names[s];
}

LeadReferral
lead_referral_of(const char *source_type)
{
	if (source_type == NULL)
		return LEAD_REFERRAL_NONE;
	/* older payloads carry no type: they were ads */
	if (source_type[0] == '\0' || strcmp(source_type, "ad") == 0)
		return LEAD_REFERRAL_AD;
	/* a post's id in per-ad reporting would count a post as an ad */
	return LEAD_REFERRAL_POST;
}

LeadSource
lead_source_of(LeadReferral referral, bool answers_campaign)
{
	/* the ad or post brought them to the chat even if they had our template too */
	if (referral == LEAD_REFERRAL_AD)
		return LEAD_SOURCE_CTWA;
	if (referral == LEAD_REFERRAL_POST)
		return LEAD_SOURCE_CTWA_POST;
	return answers_campaign ? LEAD_SOURCE_CAMPAIGN : LEAD_SOURCE_ORGANIC;
}

bool
lead_engaged(int messages, double taps, LeadTime last_inbound, LeadTime last_outbound)
{
	if (messages >= 2 || taps > 0)
		return true;
	return last_inbound != LEAD_TIME_NEVER && last_outbound != LEAD_TIME_NEVER && last_inbound > last_outbound;
}

const char *
lead_stage_after(const char *stage, bool engaged, int score, int qualify_score, bool merged)
{
	bool		open_early;

	if (stage == NULL)
		return NULL;
	open_early = strcmp(stage, "new") == 0 || strcmp(stage, "engaged") == 0;
	if (merged || !open_early)
		return stage;
	if (score != LEAD_NO_SCORE && score >= qualify_score)
		return "qualified";
	if (engaged)
		return "engaged";
	return stage;
}

bool
lead_score_news(int previous, int score, int qualify_score)
{
	if (score == LEAD_NO_SCORE)
		return false;
	if (previous == LEAD_NO_SCORE)
		return true;
	if (abs(score - previous) >= LEAD_SCORE_NEWS_POINTS)
		return true;
	return (previous < qualify_score) != (score < qualify_score);
}
