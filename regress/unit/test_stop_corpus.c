/*
 * test_stop_corpus.c
 *		The stop-request classifier over the whole labelled corpus
 *		(regress/stop_corpus.tsv, see regress/stop_corpus/README.md).
 *
 * Fails if precision or recall on stops falls below the bar (a DOUBTFUL
 * answer counts as not a stop), printing every line it got wrong.  Run from
 * the top of the tree (make unit does); STOP_CORPUS names another file.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stop_request.h"

#define MIN_PRECISION 0.97
#define MIN_RECALL 0.95
#define MIN_LINES 300

typedef struct Tally
{
	int			lines;
	int			stop_labels;
	int			true_stops;
	int			false_stops;
	int			missed_stops;
	int			doubtful;
	int			wrong;
} Tally;

static bool
parse_label(const char *s, StopVerdict *v)
{
	if (strcmp(s, "stop") == 0)
		*v = STOP_VERDICT_STOP;
	else if (strcmp(s, "doubtful") == 0)
		*v = STOP_VERDICT_DOUBTFUL;
	else if (strcmp(s, "not_stop") == 0)
		*v = STOP_VERDICT_NOT_STOP;
	else
		return false;
	return true;
}

static void
count(Tally *t, int lineno, StopVerdict want, StopSource source, const char *text)
{
	StopResult	r;
	StopVerdict got = stop_classify(text, source, &r);

	t->lines++;
	t->stop_labels += want == STOP_VERDICT_STOP;
	t->true_stops += want == STOP_VERDICT_STOP && got == STOP_VERDICT_STOP;
	t->false_stops += want != STOP_VERDICT_STOP && got == STOP_VERDICT_STOP;
	t->missed_stops += want == STOP_VERDICT_STOP && got != STOP_VERDICT_STOP;
	t->doubtful += got == STOP_VERDICT_DOUBTFUL;
	if (got != want)
	{
		t->wrong++;
		printf("  line %d: %s, labelled %s: %s | %s: %s\n", lineno, stop_verdict_name(got),
			   stop_verdict_name(want), text, r.rule, r.explanation);
	}
}

static void
whole_corpus(void **state)
{
	const char *path = getenv("STOP_CORPUS") ? getenv("STOP_CORPUS") : "regress/stop_corpus.tsv";
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			lineno = 0;
	Tally		t = {0};
	double		precision,
				recall;

	if (f == NULL)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	while (fgets(line, sizeof(line), f))
	{
		char	   *label,
				   *source,
				   *text;
		StopVerdict want = STOP_VERDICT_NOT_STOP;
		StopSource src = STOP_SOURCE_TEXT;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		label = strtok(line, "\t");
		source = strtok(NULL, "\t");
		text = strtok(NULL, "");
		if (!label || !source || !text || !parse_label(label, &want) || !stop_source_parse(source, &src))
		{
			fclose(f);
			fail_msg("%s:%d: not \"label<TAB>source<TAB>text\" with a known label and source", path, lineno);
		}
		count(&t, lineno, want, src, text);
	}
	fclose(f);
	precision = t.true_stops + t.false_stops ? (double) t.true_stops / (t.true_stops + t.false_stops) : 0;
	recall = t.stop_labels ? (double) t.true_stops / t.stop_labels : 0;
	printf("stop corpus: %d lines, %d stops: precision %.3f, recall %.3f; %d answered doubtful; "
		   "%d false stops, %d missed, %d answers differ from the label\n",
		   t.lines, t.stop_labels, precision, recall, t.doubtful, t.false_stops, t.missed_stops, t.wrong);
	assert_true(t.lines >= MIN_LINES);
	if (precision < MIN_PRECISION || recall < MIN_RECALL)
		fail_msg("precision %.3f (bar %.2f), recall %.3f (bar %.2f)", precision, MIN_PRECISION, recall, MIN_RECALL);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(whole_corpus),
};

UnitGroup
stop_corpus_tests(void)
{
	return (UnitGroup) UNIT_GROUP("stop_corpus", tests);
}
