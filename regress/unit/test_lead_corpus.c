/*
 * test_lead_corpus.c
 *		Reading the labelled conversations, and the corpus the default
 *		model learns from (pt.txt, es.txt and en.txt in regress/lead_corpus): big
 *		enough, in the three languages, both outcomes, ids unique, and
 *		written the way the language guess reads it.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lead_corpus.h"

#define MIN_CONVERSATIONS 400

typedef struct Seen
{
	int			count;
	int			won;
	int			lang[3];
	int			events;
	int			texts;
	int			texts_guessed;	/* whose guessed language is the conversation's */
	char		ids[1024][LEAD_CORPUS_ID_MAX];
	int			nids;
	LeadCorpusConversation last;
} Seen;

static bool
collect(const LeadCorpusConversation *c, void *ctx)
{
	Seen	   *s = ctx;
	static LeadTokens t;

	s->count++;
	s->won += c->won;
	s->lang[c->lang]++;
	s->events += c->nev;
	s->last = *c;
	for (int i = 0; i < s->nids; i++)
		if (strcmp(s->ids[i], c->id) == 0)
			fail_msg("id %s twice (line %d)", c->id, c->line);
	if (s->nids < 1024)
		strcpy(s->ids[s->nids++], c->id);
	for (int i = 0; i < c->nev; i++)
		if (c->ev[i].text_len > 0)
		{
			char		text[1024];
			int			len = c->ev[i].text_len < 1023 ? c->ev[i].text_len : 1023;

			memcpy(text, c->ev[i].text, len);
			text[len] = '\0';
			lead_tokenize(text, &t);
			s->texts++;
			s->texts_guessed += lead_language_of(&t) == c->lang;
		}
	return true;
}

static void
reads_a_conversation(void **state)
{
	static Seen s;
	char		err[200];
	const char *text =
		"# a comment\n"
		"= pt-1 pt won\n"
		"< 0 Olá! Vi que você se interessou pelo CDB\n"
		"r 2\n"
		"> 5 quanto rende 50 mil?\n"
		"t 2h Quero falar com assessor\n"
		"f 1d 131049\n"
		"o 1d\n"
		"i 2d\n"
		"b 2d\n"
		"@ 3d\n"
		"\n"
		"= en-1 en lost\n"
		"@ 0\n";

	memset(&s, 0, sizeof(s));
	assert_int_equal(lead_corpus_parse(text, collect, &s, err, sizeof(err)), 2);
	assert_int_equal(s.won, 1);
	assert_int_equal(s.lang[LEAD_LANG_PT], 1);
	assert_int_equal(s.lang[LEAD_LANG_EN], 1);
	assert_int_equal(s.events, 8);
	assert_string_equal(s.last.id, "en-1");
	memset(&s, 0, sizeof(s));
	lead_corpus_parse("= a pt won\n> 5 quanto rende?\nt 2h Sim\nf 1d 131049\n@ 3d\n", collect, &s,
					  err, sizeof(err));
	assert_int_equal(s.last.nev, 3);
	assert_int_equal(s.last.ev[0].kind, LEAD_EVENT_INBOUND);
	assert_int_equal(s.last.ev[0].minute, 5);
	assert_int_equal(s.last.ev[0].text_len, (int) strlen("quanto rende?"));
	assert_true(strncmp(s.last.ev[0].text, "quanto rende?", s.last.ev[0].text_len) == 0);
	assert_int_equal(s.last.ev[1].kind, LEAD_EVENT_TAP);
	assert_int_equal(s.last.ev[1].minute, 120);
	assert_int_equal(s.last.ev[2].code, 131049);
	assert_int_equal(s.last.ev[2].minute, 1440);
	assert_int_equal(s.last.observed_minute, 3 * 1440);
	assert_int_equal(s.last.line, 1);
	assert_true(s.last.won);
}

static void
errors_name_the_line(void **state)
{
	static Seen s;
	const struct
	{
		const char *text;
		const char *error;
	}			cases[] = {
		{"= a pt won\n> 5 oi\n", "line 1: conversation a has no \"@\" line"},
		{"= a pt maybe\n@ 1\n", "line 1: unknown outcome \"maybe\""},
		{"= a fr won\n@ 1\n", "line 1: unknown language \"fr\""},
		{"= a pt\n@ 1\n", "line 1: a header is"},
		{"> 5 oi\n", "line 1: an event before any"},
		{"= a pt won\nx 5\n@ 9\n", "line 2: unknown line \"x\""},
		{"= a pt won\n> soon oi\n@ 9\n", "line 2: \">\" needs a time"},
		{"= a pt won\n>5 oi\n@ 9\n", "line 2: a line starts with one mark"},
		{"= a pt won\n> 5\n@ 9\n", "line 2: \">\" needs the lead's text"},
		{"= a pt won\nf 5 oops\n@ 9\n", "line 2: \"f\" needs a Cloud API error code"},
		{"= a pt won\n> 10 oi\n@ 9\n", "line 1: conversation a has an event after"},
		{"= a pt won\n@ 9 later\n", "line 2: \"@\" needs a time"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		err[200];

		memset(&s, 0, sizeof(s));
		if (lead_corpus_parse(cases[i].text, collect, &s, err, sizeof(err)) != -1 ||
			strncmp(err, cases[i].error, strlen(cases[i].error)) != 0)
			fail_msg("%zu: got \"%s\", expected \"%s...\"", i, err, cases[i].error);
	}
}

static char *
read_file(const char *path)
{
	FILE	   *f = fopen(path, "r");
	long		n;
	char	   *buf;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	if (buf == NULL || fread(buf, 1, n, f) != (size_t) n)
		fail_msg("cannot read %s", path);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
the_shipped_corpus(void **state)
{
	static Seen s;
	const char *dir = getenv("LEAD_CORPUS_DIR") ? getenv("LEAD_CORPUS_DIR") : "regress/lead_corpus";
	const char *files[] = {"pt.txt", "es.txt", "en.txt"};

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 3; i++)
	{
		char		path[512],
					err[200];
		char	   *text;
		int			before[3];

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		text = read_file(path);
		if (text == NULL)
			fail_msg("cannot open %s (run from the top of the tree)", path);
		memcpy(before, s.lang, sizeof(before));
		if (lead_corpus_parse(text, collect, &s, err, sizeof(err)) < 0)
			fail_msg("%s: %s", path, err);
		/* each file holds its own language only */
		for (int l = 0; l < 3; l++)
			if (l != i && s.lang[l] != before[l])
				fail_msg("%s holds conversations in another language", path);
		free(text);
	}
	printf("lead corpus: %d conversations (pt %d, es %d, en %d), %d won, %d events, "
		   "%d texts (language guessed right for %d)\n", s.count, s.lang[0], s.lang[1], s.lang[2],
		   s.won, s.events, s.texts, s.texts_guessed);
	assert_true(s.count >= MIN_CONVERSATIONS);
	assert_true(s.lang[LEAD_LANG_PT] * 2 > s.count);	/* Portuguese most */
	assert_true(s.lang[LEAD_LANG_ES] * 10 >= s.count);
	assert_true(s.lang[LEAD_LANG_EN] * 10 >= s.count);
	/* both outcomes, as a sales team sees them: more lost than won */
	assert_true(s.won * 5 >= s.count && s.won * 2 < s.count);
	/* the language guess agrees with the writer on most messages */
	assert_true(s.texts_guessed * 10 >= s.texts * 8);
}

UnitGroup
lead_corpus_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_a_conversation),
		cmocka_unit_test(errors_name_the_line),
		cmocka_unit_test(the_shipped_corpus),
	};

	return (UnitGroup) UNIT_GROUP("lead_corpus", tests);
}
