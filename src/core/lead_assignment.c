/*
 * lead_assignment.c
 *		Filters, policies and the sentence that explains an assignment.
 *
 * See lead_assignment.h for the rules.  Everything here is O(agents) per
 * lead, allocation-free, and deterministic: ties end on the agent id.
 */
#include "lead_assignment.h"
#include "names.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MINUS "\xe2\x88\x92"	/* U+2212, as in "fairness −2" */
#define IMPLIES "\xe2\x87\x92"	/* U+21D2 */
/* How many loads a queue explanation lists. */
#define LISTED_FULL 4

static const char *const policy_names[] = {"round_robin", "least_loaded", "score_aware"};
static const char *const presence_names[] = {"online", "away", "offline"};
static const char *const tier_names[] = {"junior", "standard", "senior"};
static const char *const reason_names[] = {
	"", "no_agents", "no_language", "no_product", "nobody_available", "all_full", "fairness_limit"
};

/*
 * How far an agent gets through the filters for one lead.  The furthest
 * stage any agent reaches names the queue reason; ELIGIBLE agents compete.
 */
typedef enum Stage
{
	STAGE_INACTIVE,				/* inactive, or the owner the lead leaves */
	STAGE_LANGUAGE,				/* does not speak the lead's language */
	STAGE_PRODUCT,				/* does not cover one of its products */
	STAGE_UNAVAILABLE,			/* away, offline or off shift */
	STAGE_FULL,					/* at capacity */
	STAGE_CAPPED,				/* at its fairness limit */
	STAGE_ELIGIBLE
} Stage;

static const QueueReason reason_of_stage[] = {
	QUEUE_NO_AGENTS, QUEUE_NO_LANGUAGE, QUEUE_NO_PRODUCT, QUEUE_NOBODY_AVAILABLE,
	QUEUE_ALL_FULL, QUEUE_FAIRNESS_LIMIT, QUEUE_NONE
};

/* What the policies compare, for one eligible agent. */
typedef struct Candidate
{
	int			index;
	double		deficit;		/* assigned minus fair share in the window */
	double		win_rate;		/* smoothed, in the lead's score band */
	int			tier_distance;
} Candidate;

/* Sums over the agents who could take this lead now (full or not). */
typedef struct Pool
{
	double		recent;
	double		weights;
	double		team_rate;		/* the portfolio's smoothed win rate in the band */
} Pool;

const char *
assign_policy_name(AssignPolicy policy)
{
	return policy_names[policy];
}

bool
assign_policy_parse(const char *name, AssignPolicy *out)
{
	int			i;

	if (!names_find(policy_names, NAMES_COUNT(policy_names), name, &i))
		return false;
	*out = (AssignPolicy) i;
	return true;
}

const char *
agent_presence_name(AgentPresence presence)
{
	return presence_names[presence];
}

bool
agent_presence_parse(const char *name, AgentPresence *out)
{
	int			i;

	if (!names_find(presence_names, NAMES_COUNT(presence_names), name, &i))
		return false;
	*out = (AgentPresence) i;
	return true;
}

const char *
agent_tier_name(AgentTier tier)
{
	return tier_names[tier];
}

bool
agent_tier_parse(const char *name, AgentTier *out)
{
	int			i;

	if (!names_find(tier_names, NAMES_COUNT(tier_names), name, &i))
		return false;
	*out = (AgentTier) i;
	return true;
}

const char *
queue_reason_name(QueueReason reason)
{
	return reason_names[reason];
}

/* Length of a language tag's primary subtag: "pt" in "pt-BR" or "pt_BR". */
static size_t
primary_length(const char *tag)
{
	return strcspn(tag, "-_");
}

bool
assign_language_matches(const char *spoken, const char *wanted)
{
	size_t		n;

	if (wanted == NULL || wanted[0] == '\0')
		return true;
	if (spoken == NULL)
		return false;
	n = primary_length(wanted);
	return n > 0 && primary_length(spoken) == n && strncasecmp(spoken, wanted, n) == 0;
}

int
assign_score_band(int score)
{
	if (score < 0)
		return 0;
	return score >= 100 ? ASSIGN_SCORE_BANDS - 1 : score * ASSIGN_SCORE_BANDS / 100;
}

AgentTier
assign_wanted_tier(const AssignRules *rules, int score)
{
	if (score >= rules->senior_score)
		return TIER_SENIOR;
	return score >= rules->standard_score ? TIER_STANDARD : TIER_JUNIOR;
}

bool
assign_agent_has_room(const AssignAgent *a)
{
	return a->active && a->presence == PRESENCE_ONLINE && a->on_shift && a->open_leads < a->capacity;
}

void
assign_record(AssignAgent *agent, int64_t rotation)
{
	agent->open_leads++;
	agent->recent++;
	agent->rotation = rotation;
}

static bool
speaks(const AssignAgent *a, const char *language)
{
	if (language == NULL || language[0] == '\0')
		return true;
	for (int i = 0; i < a->nlanguages; i++)
		if (assign_language_matches(a->languages[i], language))
			return true;
	return false;
}

static bool
covers_product(const AssignAgent *a, const char *product)
{
	if (a->nproducts == 0)
		return true;
	for (int i = 0; i < a->nproducts; i++)
		if (strcasecmp(a->products[i], product) == 0)
			return true;
	return false;
}

static bool
covers_all(const AssignAgent *a, const AssignLead *lead)
{
	for (int i = 0; i < lead->nproducts; i++)
		if (!covers_product(a, lead->products[i]))
			return false;
	return true;
}

/* The window cap for this agent: the limit scaled by its weight, at least one. */
static int
fairness_cap(const AssignRules *rules, const AssignAgent *a)
{
	long		cap = lround((double) rules->fairness_limit * a->weight / 100.0);

	return cap < 1 ? 1 : (int) cap;
}

static void appendf(char *buf, size_t size, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static void
appendf(char *buf, size_t size, const char *fmt,...)
{
	size_t		used = strlen(buf);
	va_list		ap;

	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/* "fairness −2", "fairness +1", "fairness 0" */
static void
append_fairness(char *buf, size_t size, double deficit)
{
	long		d = lround(deficit);

	if (d < 0)
		appendf(buf, size, ", fairness " MINUS "%ld", -d);
	else if (d > 0)
		appendf(buf, size, ", fairness +%ld", d);
	else
		appendf(buf, size, ", fairness 0");
}


static Stage
stage_of(const AssignAgent *a, const AssignLead *lead, const AssignRules *rules)
{
	if (!a->active || a->id == lead->exclude_agent)
		return STAGE_INACTIVE;
	if (!speaks(a, lead->language))
		return STAGE_LANGUAGE;
	if (!covers_all(a, lead))
		return STAGE_PRODUCT;
	if (a->presence != PRESENCE_ONLINE || !a->on_shift)
		return STAGE_UNAVAILABLE;
	if (a->open_leads >= a->capacity)
		return STAGE_FULL;
	if (rules->fairness_limit > 0 && a->recent >= fairness_cap(rules, a))
		return STAGE_CAPPED;
	return STAGE_ELIGIBLE;
}

static Candidate
candidate(const AssignAgent *agents, int i, const AssignLead *lead, const AssignRules *rules,
		  const Pool *pool)
{
	const AssignAgent *a = &agents[i];
	const ConversionCount *cc = &a->conversion[assign_score_band(lead->score)];
	AgentTier	wanted = assign_wanted_tier(rules, lead->score);
	Candidate	c = {.index = i};

	c.deficit = a->recent - (pool->weights > 0 ? pool->recent * a->weight / pool->weights : 0);
	c.win_rate = (cc->won + ASSIGN_CONVERSION_PRIOR * pool->team_rate) /
		(cc->closed + ASSIGN_CONVERSION_PRIOR);
	c.tier_distance = a->tier >= wanted ? (int) (a->tier - wanted) : 10 + (int) (wanted - a->tier);
	return c;
}

/* -1, 0, 1 like strcmp: lower open/capacity first (compared without division). */
static int
cmp_load(const AssignAgent *a, const AssignAgent *b)
{
	long long	l = (long long) a->open_leads * b->capacity;
	long long	r = (long long) b->open_leads * a->capacity;

	return (l > r) - (l < r);
}

static int
cmp_double(double a, double b)
{
	return (a > b) - (a < b);
}

static int
cmp_int(int a, int b)
{
	return (a > b) - (a < b);
}

/* Longest since its last assignment (never assigned first), then the lowest id. */
static int
cmp_turn(const AssignAgent *a, const AssignAgent *b)
{
	if (a->rotation != b->rotation)
		return a->rotation < b->rotation ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

static int
compare(const AssignAgent *agents, const Candidate *x, const Candidate *y, AssignPolicy policy)
{
	const AssignAgent *a = &agents[x->index];
	const AssignAgent *b = &agents[y->index];
	int			r = 0;

	switch (policy)
	{
		case ASSIGN_ROUND_ROBIN:
			r = cmp_double(x->deficit, y->deficit);
			break;
		case ASSIGN_LEAST_LOADED:
			if ((r = cmp_load(a, b)) == 0)
				r = cmp_double(x->deficit, y->deficit);
			break;
		case ASSIGN_SCORE_AWARE:
			if ((r = cmp_int(x->tier_distance, y->tier_distance)) == 0 &&
				(r = cmp_double(y->win_rate, x->win_rate)) == 0 &&
				(r = cmp_load(a, b)) == 0)
				r = cmp_double(x->deficit, y->deficit);
			break;
	}
	return r != 0 ? r : cmp_turn(a, b);
}

static void
explain_choice(const AssignAgent *a, const Candidate *c, const AssignLead *lead,
			   const AssignRules *rules, AssignPolicy policy, char *buf, size_t size)
{
	appendf(buf, size, "%s, %d/%d open", agent_presence_name(a->presence), a->open_leads, a->capacity);
	switch (policy)
	{
		case ASSIGN_ROUND_ROBIN:
			appendf(buf, size, ", next in turn");
			break;
		case ASSIGN_LEAST_LOADED:
			appendf(buf, size, ", least loaded");
			break;
		case ASSIGN_SCORE_AWARE:
			{
				AgentTier	wanted = assign_wanted_tier(rules, lead->score);

				appendf(buf, size, ", score %d " IMPLIES " %s tier", lead->score, agent_tier_name(wanted));
				if (a->tier != wanted)
					appendf(buf, size, " (got %s)", agent_tier_name(a->tier));
				appendf(buf, size, ", wins %ld%% of similar leads (%d closed)",
						lround(c->win_rate * 100), a->conversion[assign_score_band(lead->score)].closed);
				break;
			}
	}
	append_fairness(buf, size, c->deficit);
}

static void
explain_no_product(const AssignAgent *agents, int nagents, const AssignLead *lead,
				   const AssignRules *rules, char *buf, size_t size)
{
	for (int p = 0; p < lead->nproducts; p++)
	{
		bool		covered = false;

		for (int i = 0; i < nagents && !covered; i++)
			covered = stage_of(&agents[i], lead, rules) >= STAGE_PRODUCT &&
				covers_product(&agents[i], lead->products[p]);
		if (!covered)
		{
			if (lead->language != NULL && lead->language[0] != '\0')
				appendf(buf, size, "no agent who speaks %s covers %s", lead->language, lead->products[p]);
			else
				appendf(buf, size, "no agent covers %s", lead->products[p]);
			return;
		}
	}
	appendf(buf, size, "no agent covers all of its %d products", lead->nproducts);
}

static void
explain_queue(const AssignAgent *agents, int nagents, const AssignLead *lead,
			  const AssignRules *rules, Stage furthest, char *buf, size_t size)
{
	int			count[STAGE_ELIGIBLE + 1] = {0};
	int			away = 0,
				offline = 0,
				listed = 0;

	for (int i = 0; i < nagents; i++)
	{
		const AssignAgent *a = &agents[i];
		Stage		st = stage_of(a, lead, rules);

		count[st]++;
		if (st == STAGE_UNAVAILABLE)
		{
			away += a->presence == PRESENCE_AWAY;
			offline += a->presence == PRESENCE_OFFLINE;
		}
	}
	switch (furthest)
	{
		case STAGE_INACTIVE:
			appendf(buf, size, "no %sactive agent", lead->exclude_agent ? "other " : "");
			break;
		case STAGE_LANGUAGE:
			appendf(buf, size, "no %sactive agent speaks %s", lead->exclude_agent ? "other " : "",
					lead->language);
			break;
		case STAGE_PRODUCT:
			explain_no_product(agents, nagents, lead, rules, buf, size);
			break;
		case STAGE_UNAVAILABLE:
			if (count[STAGE_UNAVAILABLE] == 1)
				appendf(buf, size, "the only matching agent is not online and on shift");
			else
				appendf(buf, size, "none of %d matching agents is online and on shift", count[STAGE_UNAVAILABLE]);
			appendf(buf, size, " (%d away, %d offline, %d off shift)", away, offline,
					count[STAGE_UNAVAILABLE] - away - offline);
			break;
		case STAGE_FULL:
			if (count[STAGE_FULL] == 1)
				appendf(buf, size, "the only available matching agent is full (");
			else
				appendf(buf, size, "all %d available matching agents are full (", count[STAGE_FULL]);
			for (int i = 0; i < nagents; i++)
				if (stage_of(&agents[i], lead, rules) == STAGE_FULL && listed++ < LISTED_FULL)
					appendf(buf, size, "%s%d/%d", listed > 1 ? ", " : "", agents[i].open_leads,
							agents[i].capacity);
			appendf(buf, size, "%s)", listed > LISTED_FULL ? ", ..." : "");
			break;
		case STAGE_CAPPED:
			if (count[STAGE_CAPPED] == 1)
				appendf(buf, size, "the only available matching agent with room");
			else
				appendf(buf, size, "all %d available matching agents with room", count[STAGE_CAPPED]);
			appendf(buf, size, " reached the fairness limit (%d per window)", rules->fairness_limit);
			break;
		case STAGE_ELIGIBLE:
			break;
	}
}

/* Why the person's owner cannot take the lead back now, or NULL if they can. */
static const char *
owner_unavailable(const AssignAgent *a)
{
	if (!a->active)
		return "inactive";
	if (a->presence != PRESENCE_ONLINE)
		return agent_presence_name(a->presence);
	if (!a->on_shift)
		return "off shift";
	return a->open_leads >= a->capacity ? "full" : NULL;
}

void
assign_choose(const AssignAgent *agents, int nagents, const AssignLead *lead,
			  const AssignRules *rules, AssignChoice *out)
{
	char	   *buf = out->explanation;
	size_t		size = sizeof(out->explanation);
	Stage		furthest = STAGE_INACTIVE;
	Pool		pool = {0};
	int			band = assign_score_band(lead->score);
	int			band_won = 0,
				band_closed = 0;
	int			owner = -1;
	AssignPolicy policy = rules->policy;
	Candidate	best = {.index = -1};

	memset(out, 0, sizeof(*out));
	out->agent = -1;
	for (int i = 0; i < nagents; i++)
	{
		const AssignAgent *a = &agents[i];
		Stage		st = stage_of(a, lead, rules);

		if (st > furthest)
			furthest = st;
		if (st >= STAGE_FULL)
		{
			pool.recent += a->recent;
			pool.weights += a->weight;
		}
		band_won += a->conversion[band].won;
		band_closed += a->conversion[band].closed;
		if (lead->returning_owner != 0 && a->id == lead->returning_owner && a->id != lead->exclude_agent)
			owner = i;
	}
	pool.team_rate = (band_won + 1.0) / (band_closed + 2.0);

	if (owner >= 0)
	{
		const char *why = owner_unavailable(&agents[owner]);

		if (why == NULL)
		{
			Candidate	c = candidate(agents, owner, lead, rules, &pool);

			out->agent = owner;
			out->returning = true;
			out->fairness = c.deficit;
			appendf(buf, size, "returning person " IMPLIES " their owner, %s, %d/%d open",
					agent_presence_name(agents[owner].presence), agents[owner].open_leads,
					agents[owner].capacity);
			append_fairness(buf, size, c.deficit);
			return;
		}
		appendf(buf, size, "returning person, owner %s " IMPLIES " ", why);
	}

	if (furthest != STAGE_ELIGIBLE)
	{
		out->reason = reason_of_stage[furthest];
		explain_queue(agents, nagents, lead, rules, furthest, buf, size);
		return;
	}
	if (policy == ASSIGN_SCORE_AWARE && lead->score < 0)
	{
		policy = ASSIGN_LEAST_LOADED;
		appendf(buf, size, "not scored " IMPLIES " ");
	}
	for (int i = 0; i < nagents; i++)
	{
		Candidate	c;

		if (stage_of(&agents[i], lead, rules) != STAGE_ELIGIBLE)
			continue;
		c = candidate(agents, i, lead, rules, &pool);
		if (best.index < 0 || compare(agents, &c, &best, policy) < 0)
			best = c;
	}
	out->agent = best.index;
	out->reason = QUEUE_NONE;
	out->fairness = best.deficit;
	explain_choice(&agents[best.index], &best, lead, rules, policy, buf, size);
}
