/*
 * stop_request.c
 *		Stop requests: a table of phrase patterns over folded words, read
 *		with negation, conditions and message length in mind.
 *
 * A pattern is a sequence of elements separated by spaces.  An element is a
 * word ("baja"), a word class from stop_lexicon.c ("NEG", "MSG"), or
 * alternatives of both ("chega|basta"); a trailing '?' makes it optional.
 * '^' means "only greetings, thanks or a negation before it in its clause",
 * '$' the same after it.  Greetings, thanks and "pf" inside a phrase are
 * skipped ("me tira, por favor, da lista" reads "me tira da lista").
 *
 * What a match means depends on its kind:
 *   EXPLICIT  names the messages, the list or an opt-out keyword: a stop
 *             wherever it is ("não quero mais receber mensagens", "dame de
 *             baja", "unsubscribe");
 *   PLAIN     a stop in a short message, DOUBTFUL amid a long one ("para de
 *             mandar", "não me mande mensagens");
 *   BARE      a stop word alone in its clause ("pare", "sair", "não quero
 *             mais"): the same, but it carries less evidence than a phrase,
 *             so it tolerates less around it;
 *   WEAK      DOUBTFUL: it may mean stop, a person decides ("não tenho
 *             interesse", bare "cancelar", "vou denunciar");
 *   DEMOTE    DOUBTFUL, and makes any stop it overlaps DOUBTFUL too
 *             ("dar de baja mi cuenta" closes an account);
 *   NEAR      not a stop; says why a stop-looking word is not one ("cancelar
 *             a reunião", "para quando", "stop loss").
 * Then: a negation before the phrase ("não quero sair", "don't stop", "no me
 * den de baja") or a trailing "não" makes it NOT_STOP; a condition ("se
 * continuar ... vou sair da lista") or a restriction after it ("... sobre
 * cripto", "só as de fim de semana") makes it DOUBTFUL.  The strongest
 * reading wins: STOP over DOUBTFUL over an explained NOT_STOP.
 *
 * A message longer than one window (STOP_MAX_TOKENS folded words) is read
 * in windows, each starting STOP_WINDOW_OVERLAP words before the previous
 * one ended, to its end: a request anywhere in it is seen.  A window reads
 * the phrases that start in its own part, from the middle of its overlap
 * with the previous window to the middle of the next, so each phrase is
 * read once with at least half the overlap of words on either side, and the
 * edge of a window is never taken for the edge of a clause.  The work is
 * linear in the message (each word is folded at most twice): a hostile
 * megabyte of one-letter words costs about 4 s, a 4,096-character WhatsApp
 * text at most about 20 ms.
 */
#include "stop_request.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "stop_fold.h"

/* More content words than this around a PLAIN phrase or BARE word: a person decides. */
#define SHORT_AROUND_PHRASE 5
#define SHORT_AROUND_BARE 3
#define MAX_MATCHES 48
#define QUOTE_MAX 64

typedef enum PatternKind
{
	EXPLICIT,
	PLAIN,
	BARE,
	WEAK,
	DEMOTE,
	NEAR
} PatternKind;

typedef struct StopPattern
{
	PatternKind kind;
	const char *rule;
	const char *what;			/* for the explanation */
	const char *pattern;
} StopPattern;

static const StopPattern patterns[] = {
	/* no longer wants to receive: "não quero mais receber mensagens", "no quiero recibir más" */
	{EXPLICIT, "no_more_messages", "opt-out phrase",
	"NEG WANT de|to|que? MORE? RECV MORE|any? nenhum|nenhuma|any? DEM? tipo? de? MSG|PROMO"},
	{EXPLICIT, "no_more_messages", "opt-out phrase",
	"NEG WANT de|to? MORE? RECV MORE? nada|nenhuma|nenhum|isso|isto|nothing|anything"},
	{EXPLICIT, "no_more_messages", "opt-out phrase", "NEG WANT de|to? MORE? RECV MORE? $"},
	{EXPLICIT, "no_more_messages", "opt-out phrase", "NEG WANT MORE DEM? MSG|PROMO"},
	{EXPLICIT, "no_more_messages", "opt-out phrase", "NEG WANT que me? SEND me? MORE|again|MSG|PROMO"},
	{EXPLICIT, "no_more_messages", "opt-out phrase", "NEG MORE DEM? MSG|PROMO"},
	{EXPLICIT, "no_more_messages", "opt-out phrase",
	"CANCEL|STOPV DEM? recebimento|envio|envios de? DEM? MSG|PROMO"},
	/* "para de mandar msg", "dejen de enviarme mensajes", "stop sending me messages" */
	{EXPLICIT, "stop_sending", "stop-sending phrase", "STOPV de|com? me? SEND me? MORE? DEM? MSG|PROMO"},
	{EXPLICIT, "stop_sending", "stop-sending phrase", "STOPV com? DEM? MSG|PROMO"},
	{EXPLICIT, "stop_receiving", "stop-receiving phrase", "STOPV de RECV DEM? MSG|PROMO|isso|nada"},
	{EXPLICIT, "stop_receiving", "stop-receiving phrase", "STOPV de RECV $"},
	{EXPLICIT, "enough_messages", "enough-messages phrase", "chega|basta de SEND? DEM? MSG|PROMO"},
	{EXPLICIT, "enough_messages", "enough-messages phrase", "chega|basta de SEND $"},
	/* "não me mande mais", "no me escriban más", "don't text me again" */
	{EXPLICIT, "dont_send", "do-not-send phrase", "NEG me? SEND me? MORE|again"},
	{EXPLICIT, "dont_send", "do-not-send phrase", "NEG me? BOTHER me? MORE|again"},
	/* "me tira dessa lista", "sáquenme de la lista", "remove me from your list" */
	{EXPLICIT, "leave_list", "leave-the-list phrase", "LEAVE me? DEM? MYID? FROM DEM? LIST"},
	{EXPLICIT, "leave_list", "leave-the-list phrase", "take me off DEM? LIST"},
	{EXPLICIT, "remove_my_number", "remove-my-number phrase", "LEAVE DEM MYID $"},
	{EXPLICIT, "remove_my_number", "remove-my-number phrase", "LEAVE DEM MYID daqui|dai"},
	{EXPLICIT, "unsubscribe", "unsubscribe keyword", "UNSUB"},
	{EXPLICIT, "dar_de_baja", "opt-out phrase", "GIVE me? de baja"},
	{EXPLICIT, "cancel_subscription", "cancel-subscription phrase", "CANCEL DEM? SUBS"},

	{BARE, "stop_word", "stop word", "^ WANT? HALT imediatamente|ja|ya|now|ahora|already? $"},
	{PLAIN, "stop_sending", "stop-sending phrase", "STOPV de? me? SEND me? isso|nada|DEM? $"},
	{BARE, "stop_it", "stop phrase", "^ STOPV com? isso|it|this|that|eso|esto $"},
	{PLAIN, "stop_bothering", "stop-bothering phrase", "STOPV de me? BOTHER"},
	{BARE, "enough", "stop word", "^ ja|ya? chega|basta ja|ya? $"},
	{BARE, "no_more", "opt-out phrase", "^ NEG WANT? MORE $"},
	{PLAIN, "dont_send", "do-not-send phrase", "NEG me? SEND me? $"},
	{PLAIN, "dont_send", "do-not-send phrase", "NEG me? SEND me? DEM? MSG|PROMO"},
	{PLAIN, "dont_send", "do-not-send phrase", "NEG me? SEND me? nada|nothing|anything $"},
	{PLAIN, "no_more_messages", "opt-out phrase", "NEG WANT DEM? MSG|PROMO"},
	{PLAIN, "stop_bothering", "stop-bothering phrase", "NEG WANT MORE? ser BOTHER"},
	{PLAIN, "stop_bothering", "stop-bothering phrase", "NEG me? BOTHER $"},
	{BARE, "leave", "leave keyword", "^ WANT? me? LEAVE me? daqui|dai? $"},
	{PLAIN, "leave_me_alone", "leave-me-alone phrase", "me? deixa|deixe|deixem me? em paz"},
	{PLAIN, "leave_me_alone", "leave-me-alone phrase", "dejame|dejenme|dejeme en paz"},
	{PLAIN, "leave_me_alone", "leave-me-alone phrase", "leave me alone"},
	{BARE, "leave_me_alone", "leave-me-alone phrase", "^ me esquece|esqueca|esquecam $"},
	{BARE, "baja", "opt-out keyword", "^ baja $"},

	{WEAK, "not_interested", "not interested", "NEG HAVE? me? MORE? INTEREST"},
	{WEAK, "declined", "a no to an offer", "^ NEG WANT nada? $"},
	{WEAK, "cancel", "bare cancel", "^ WANT? CANCEL tudo? $"},
	{WEAK, "close_account", "closing the account", "CANCEL|encerrar|fechar|cerrar|close DEM? ACCOUNT"},
	{WEAK, "threat", "a block or report threat", "THREAT"},
	{WEAK, "threat", "a block or report threat", "ill|will|gonna|going report|block"},
	{WEAK, "threat", "a block or report threat", "report|block you|u|this|them|as"},
	{WEAK, "no_consent", "never agreed to messages", "NEG me? autorizei|consenti|cadastrei|inscrevi|autorice"},
	{WEAK, "no_consent", "asks where the number came from", "quem te|lhe? deu|passou DEM? MYID"},
	{WEAK, "no_consent", "asks where the number came from",
	"onde|como conseguiu|conseguiram|pegou|pegaram DEM? MYID"},
	{WEAK, "no_consent", "asks where the number came from", "where|how did you get DEM? MYID"},
	{WEAK, "no_consent", "does not know the business", "NEG conheco|conozco|know DEM? voces|empresa|you"},
	{WEAK, "wrong_person", "wrong number", "MYID errado|errada|equivocado|wrong"},
	{WEAK, "wrong_person", "wrong number", "wrong MYID|person"},
	{WEAK, "wrong_person", "wrong number", "^ e|foi? engano $"},
	{WEAK, "stop_calling", "about calls, not messages", "STOPV de me? CALL"},
	{WEAK, "stop_sending_something", "about something the business sends", "STOPV de me? SEND"},
	{WEAK, "stop_receiving_something", "about something the business sends", "STOPV de RECV"},
	{WEAK, "no_more_something", "about something the business sends", "NEG WANT de|to? MORE? RECV"},
	{WEAK, "end", "bare end", "^ end $"},

	{DEMOTE, "close_account", "closing the account", "de baja DEM? ACCOUNT"},
	{DEMOTE, "not_now", "not now, not never",
	"NEG me? SEND me? DEM? MSG|PROMO? agora|hoje|now|today|ainda|yet|amanha"},

	{NEAR, "cancel_appointment", "an appointment, order or payment, not marketing", "CANCEL DEM? APPT"},
	{NEAR, "para_preposition", "'para' as a preposition", "para|pra quando|que|onde|mim|hoje|amanha|quem"},
	{NEAR, "stop_other_meaning", "'stop' in trading or 'stop by'",
	"stop by|at|loss|gain|limit|market|do|em|no"},
	{NEAR, "leave_investment", "leaving an investment, not the list", "LEAVE FROM DEM? FIN"},
	{NEAR, "question", "asking a question", "me? tira|tire uma? duvida"},
};

#define NPATTERNS ((int) (sizeof(patterns) / sizeof(patterns[0])))

/* Explicit opt-out payloads and titles of buttons the business defines, folded. */
static const char *const opt_out_buttons[] = {
	"stop", "parar", "sair", "optout", "unsubscribe", "descadastrar", "stopall", "baja",
	"stop promotions", "stop promo", "parar promocoes", "detener promociones", "parar promociones",
	"nao quero receber", "nao quero mais receber", "parar de receber", "sair da lista",
	"dar de baja", "darme de baja", "cancelar inscricao", "cancelar suscripcion",
};

/* Words that tell the language of a phrase, for the explanation only. */
static const struct
{
	const char *tag;
	const char *words;
}			languages[] = {
	{"PT", "nao quero queria desejo gostaria mais receber mensagem mensagens sair tira tire tirar "
	"remova remover exclui descadastrar descadastra descadastre chega parem pare parar mande manda "
	"mandem mandar envie enviem enviar voces promocoes propaganda cadastro numero interesse tenho "
	"inscricao deixa esquece encher ligar bloquear denunciar dessa desse da do"},
	{"ES", "quiero recibir mensajes baja dame darme denme doy basta salir dejen deja envies envien "
	"manden mandes escriban contacten eliminen saquenme borrenme quitenme detener su interesa "
	"suscripcion cuenta ya la"},
	{"EN", "stop dont want receive messages unsubscribe remove take off sending texting text "
	"messaging contact alone leave more anymore interested my your the from promotions again optout"},
};

/*
 * The table compiled once, on first use, so a match compares class bits
 * instead of re-reading strings.  Backends are single-threaded; compiling
 * twice would write the same bytes.
 */
#define MAX_ELEMENTS 16

typedef struct Element
{
	const char *alternatives;	/* "chega|basta|MSG", not terminated */
	int			len;
	StopClass	classes;		/* of the uppercase alternatives */
	bool		has_words;		/* some alternatives are words */
	bool		optional;
	char		anchor;			/* '^', '$' or 0 */
} Element;

typedef struct Compiled
{
	Element		el[MAX_ELEMENTS];
	int			n;
	bool		valid;			/* every class named exists, not too long */
} Compiled;

static Compiled compiled[NPATTERNS];
static bool compiled_ready;

typedef struct Match
{
	int			pattern;
	int			start;
	int			end;			/* one past the last word */
} Match;

typedef struct Reading
{
	const StopText *t;
	Match		m[MAX_MATCHES];
	int			n;
	int			own_from;		/* bytes: phrases starting in [own_from, own_to) */
	int			own_to;
	/* clause_edge() before word i (lead) and from word i on (trail), once per window */
	bool		lead[STOP_MAX_TOKENS + 1];
	bool		trail[STOP_MAX_TOKENS + 1];
	int			rank;			/* of the best verdict so far: see consider() */
	StopResult *out;
} Reading;

static bool
has(const StopToken *t, StopClass c)
{
	return !t->boundary && (t->classes & c) != 0;
}

static bool
compile_element(Element *e, const char *text, int len)
{
	*e = (Element) {.alternatives = text, .len = len};
	if (len == 1 && (*text == '^' || *text == '$'))
	{
		e->anchor = *text;
		return true;
	}
	if (text[len - 1] == '?')
	{
		e->optional = true;
		e->len = --len;
	}
	for (const char *a = text, *end = text + len; a < end;)
	{
		int			n = (int) strcspn(a, "| ");

		if (n > end - a)
			n = (int) (end - a);
		if (a[0] >= 'A' && a[0] <= 'Z')
		{
			StopClass	c = stop_class_named(a, n);

			if (c == 0)
				return false;
			e->classes |= c;
		}
		else
			e->has_words = true;
		a += n + 1;
	}
	return true;
}

static void
compile_patterns(void)
{
	for (int p = 0; p < NPATTERNS; p++)
	{
		Compiled   *c = &compiled[p];
		const char *s = patterns[p].pattern;

		c->n = 0;
		c->valid = true;
		while (*(s += strspn(s, " ")))
		{
			int			len = (int) strcspn(s, " ");

			if (c->n == MAX_ELEMENTS || !compile_element(&c->el[c->n++], s, len))
				c->valid = false;
			s += len;
		}
	}
	compiled_ready = true;
}

/* Does the word satisfy the element? */
static bool
accepts(const StopToken *t, const Element *e)
{
	if (t->classes & e->classes)
		return true;
	if (!e->has_words)
		return false;
	for (const char *a = e->alternatives, *end = a + e->len; a < end;)
	{
		int			n = (int) strcspn(a, "|");

		if (n > end - a)
			n = (int) (end - a);
		if (a[0] >= 'a' && (int) strlen(t->word) == n && strncmp(t->word, a, n) == 0)
			return true;
		a += n + 1;
	}
	return false;
}

/*
 * Only greetings, thanks or negations between i and its clause's start
 * (step -1) or end (+1).  The edge of a window is not a clause's: words we
 * do not see lie beyond it.
 */
static bool
clause_edge(const StopText *t, int i, int step)
{
	for (; i >= 0 && i < t->ntok && !t->tok[i].boundary; i += step)
		if (!(t->tok[i].classes & (SC_FILLER | SC_NEG)))
			return false;
	return i < 0 ? t->from == 0 : i >= t->ntok ? !t->truncated : true;
}

static int
skip_fillers(const StopText *t, int i)
{
	while (i < t->ntok && has(&t->tok[i], SC_FILLER))
		i++;
	return i;
}

/*
 * Both clause edges at every word, in one pass each way: an anchor then
 * costs one look-up, not a walk along its clause.
 */
static void
find_clause_edges(Reading *r)
{
	const StopText *t = r->t;
	const StopClass skippable = SC_FILLER | SC_NEG;

	r->lead[0] = t->from == 0;
	for (int i = 1; i <= t->ntok; i++)
		r->lead[i] = t->tok[i - 1].boundary ||
			((t->tok[i - 1].classes & skippable) && r->lead[i - 1]);
	r->trail[t->ntok] = !t->truncated;
	for (int i = t->ntok - 1; i >= 0; i--)
		r->trail[i] = t->tok[i].boundary ||
			((t->tok[i].classes & skippable) && r->trail[i + 1]);
}

/* End of the phrase (elements from el on) matched from word i, or -1. */
static int
match_from(const Reading *r, const Compiled *c, int el, int i, bool first)
{
	const StopText *t = r->t;
	const Element *e = &c->el[el];
	int			j;

	if (el == c->n)
		return i;
	if (e->anchor)
		return (e->anchor == '^' ? r->lead[i] : r->trail[i]) ?
			match_from(r, c, el + 1, i, first) : -1;
	j = first ? i : skip_fillers(t, i);
	if (j < t->ntok && !t->tok[j].boundary && accepts(&t->tok[j], e))
	{
		int			end = match_from(r, c, el + 1, j + 1, false);

		if (end >= 0)
			return end;
	}
	return e->optional ? match_from(r, c, el + 1, i, first) : -1;
}

static void
find_matches(Reading *r)
{
	const StopText *t = r->t;

	for (int p = 0; p < NPATTERNS; p++)
		for (int s = 0; s < t->ntok && compiled[p].valid; s++)
		{
			int			e;

			if (t->tok[s].boundary || (e = match_from(r, &compiled[p], 0, s, true)) <= s)
				continue;
			if (r->n == MAX_MATCHES)
				return;
			r->m[r->n++] = (Match) {p, s, e};
			s = e - 1;
		}
}

static int
clause_start(const StopText *t, int i)
{
	while (i > 0 && !t->tok[i - 1].boundary)
		i--;
	return i;
}

/* The negation word that governs the phrase at [s, e), or -1. */
static int
negation(const StopText *t, int s, int e)
{
	int			skipped = 0;

	if (t->tok[s].classes & SC_NEG)
		return -1;				/* the negation is the phrase: "não quero mais" */
	for (int k = s - 1; k >= 0 && !t->tok[k].boundary; k--)
	{
		if (t->tok[k].classes & SC_NEG)
			return k;
		if (!(t->tok[k].classes & (SC_BRIDGE | SC_FILLER)) || ++skipped > 3)
			break;
	}
	/* Brazilian trailing "não": "quero sair não" */
	e = skip_fillers(t, e);
	if (e < t->ntok && has(&t->tok[e], SC_NEG) && strcmp(t->tok[e].word, "nao") == 0 &&
		clause_edge(t, e + 1, 1))
		return e;
	return -1;
}

static int
first_word(const StopText *t, int from, int to)
{
	for (int k = from; k < to; k++)
		if (!(t->tok[k].classes & SC_FILLER))
			return k;
	return -1;
}

/* Start of the condition ("se", "if", "caso") the phrase at s depends on, or -1. */
static int
condition(const StopText *t, int s)
{
	int			c = clause_start(t, s);
	int			w = first_word(t, c, s);

	if (w >= 0 && (t->tok[w].classes & SC_COND))
		return w;
	if (c >= 2)
	{
		int			pc = clause_start(t, c - 1);

		w = first_word(t, pc, c - 1);
		if (w >= 0 && (t->tok[w].classes & SC_COND))
			return w;
	}
	return -1;
}

/* Does a restriction follow the phrase in its clause: "... sobre cripto", "só as de"? */
static bool
restricted(const StopText *t, int e)
{
	for (; e < t->ntok && !t->tok[e].boundary; e++)
		if (t->tok[e].classes & SC_QUAL)
			return true;
	return false;
}

static bool
overlaps(const Match *a, const Match *b)
{
	return a->start < b->end && b->start < a->end;
}

/* Is the window part of a longer message? */
static bool
cut(const StopText *t)
{
	return t->from > 0 || t->truncated;
}

static bool
stop_like(const Reading *r, const Match *m)
{
	return patterns[m->pattern].kind != NEAR && negation(r->t, m->start, m->end) < 0;
}

/* Content words of the message outside every stop-like phrase. */
static int
other_words(const Reading *r)
{
	int			n = 0;

	for (int k = 0; k < r->t->ntok; k++)
	{
		bool		covered = false;

		if (r->t->tok[k].boundary ||
			(r->t->tok[k].classes & (SC_FILLER | SC_FUNC | SC_NEG)))
			continue;
		for (int i = 0; i < r->n && !covered; i++)
			covered = stop_like(r, &r->m[i]) && k >= r->m[i].start && k < r->m[i].end;
		n += !covered;
	}
	return n + (cut(r->t) ? STOP_MAX_TOKENS : 0);
}

/* The original text of words [from, to), cut short on a character boundary. */
static void
quote(const StopText *t, int from, int to, char *buf, size_t size)
{
	int			a = t->tok[from].start;
	int			b = t->tok[to - 1].end;
	bool		cut = b - a > QUOTE_MAX;

	if (cut)
	{
		b = a + QUOTE_MAX;
		while (b > a && (t->text[b] & 0xC0) == 0x80)
			b--;
	}
	snprintf(buf, size, "%.*s%s", b - a, t->text + a, cut ? "..." : "");
}

static const char *
language(const StopText *t, const Match *m)
{
	int			best = -1;
	int			best_score = 0;

	for (int l = 0; l < (int) (sizeof(languages) / sizeof(languages[0])); l++)
	{
		int			score = 0;

		for (int k = m->start; k < m->end; k++)
			score += stop_word_in_list(languages[l].words, t->tok[k].word);
		if (score > best_score)
		{
			best = l;
			best_score = score;
		}
	}
	return best < 0 ? "" : languages[best].tag;
}

/* Keep a reading if it ranks above the best so far (STOP 3, DOUBTFUL 2, explained NOT_STOP 1). */
static bool
consider(Reading *r, StopVerdict v, const char *rule)
{
	int			rank = v == STOP_VERDICT_STOP ? 3 : v == STOP_VERDICT_DOUBTFUL ? 2 : 1;

	if (rank <= r->rank)
		return false;
	r->rank = rank;
	r->out->verdict = v;
	r->out->rule = rule;
	return true;
}

static void
read_match(Reading *r, const Match *m)
{
	const StopText *t = r->t;
	const StopPattern *p = &patterns[m->pattern];
	char		q[QUOTE_MAX + 8];
	char	   *why = r->out->explanation;
	const char *lang = language(t, m);
	const char *sp = *lang ? " " : "";
	int			neg,
				cond,
				others;

	quote(t, m->start, m->end, q, sizeof(q));
	if (p->kind == NEAR)
	{
		if (consider(r, STOP_VERDICT_NOT_STOP, p->rule))
			snprintf(why, STOP_EXPLANATION_MAX, "'%s' (%s)", q, p->what);
		return;
	}
	if ((neg = negation(t, m->start, m->end)) >= 0)
	{
		if (consider(r, STOP_VERDICT_NOT_STOP, "negated"))
		{
			quote(t, neg < m->start ? neg : m->start, neg < m->start ? m->end : neg + 1, q, sizeof(q));
			snprintf(why, STOP_EXPLANATION_MAX, "negated: '%s'", q);
		}
		return;
	}
	if (p->kind == WEAK || p->kind == DEMOTE)
	{
		if (consider(r, STOP_VERDICT_DOUBTFUL, p->rule))
			snprintf(why, STOP_EXPLANATION_MAX, "'%s' (%s%s%s): not an explicit stop, a person should decide",
					 q, lang, sp, p->what);
		return;
	}
	for (int i = 0; i < r->n; i++)
		if (patterns[r->m[i].pattern].kind == DEMOTE && overlaps(m, &r->m[i]))
		{
			if (consider(r, STOP_VERDICT_DOUBTFUL, patterns[r->m[i].pattern].rule))
				snprintf(why, STOP_EXPLANATION_MAX, "'%s' (%s): a person should decide",
						 q, patterns[r->m[i].pattern].what);
			return;
		}
	if ((cond = condition(t, m->start)) >= 0)
	{
		if (consider(r, STOP_VERDICT_DOUBTFUL, "conditional"))
		{
			quote(t, cond, m->end, q, sizeof(q));
			snprintf(why, STOP_EXPLANATION_MAX, "conditional: '%s': a person should decide", q);
		}
		return;
	}
	if (restricted(t, m->end))
	{
		if (consider(r, STOP_VERDICT_DOUBTFUL, "partial"))
		{
			int			e = m->end;

			while (e < t->ntok && !t->tok[e].boundary)
				e++;
			quote(t, m->start, e, q, sizeof(q));
			snprintf(why, STOP_EXPLANATION_MAX, "partial: '%s' (only some messages?): a person should decide", q);
		}
		return;
	}
	if ((p->kind == PLAIN || p->kind == BARE) &&
		(others = other_words(r)) > (p->kind == BARE ? SHORT_AROUND_BARE : SHORT_AROUND_PHRASE))
	{
		if (!consider(r, STOP_VERDICT_DOUBTFUL, "long_message"))
			return;
		if (cut(t))
			snprintf(why, STOP_EXPLANATION_MAX, "'%s' (%s%s%s) in a message of more than %d words: a person should decide",
					 q, lang, sp, p->what, STOP_MAX_TOKENS / 2);
		else
			snprintf(why, STOP_EXPLANATION_MAX, "'%s' (%s%s%s) amid %d other words: a person should decide",
					 q, lang, sp, p->what, others);
		return;
	}
	if (consider(r, STOP_VERDICT_STOP, p->rule))
		snprintf(why, STOP_EXPLANATION_MAX, "'%s' (%s%s%s)", q, lang, sp, p->what);
}

/* Byte where the first word at or after token k starts. */
static int
word_at(const StopText *t, int k)
{
	while (t->tok[k].boundary)
		k++;					/* breaks never follow one another */
	return t->tok[k].start;
}

/* The phrases that start in this window's own part (see the top). */
static void
read_window(Reading *r)
{
	const StopText *t = r->t;

	r->n = 0;
	r->own_to = t->truncated ? word_at(t, t->ntok - STOP_WINDOW_OVERLAP / 2) : INT_MAX;
	find_clause_edges(r);
	find_matches(r);
	for (int i = 0; i < r->n; i++)
	{
		int			at = t->tok[r->m[i].start].start;

		if (at >= r->own_from && at < r->own_to)
			read_match(r, &r->m[i]);
	}
}

/* Folded words of a button, one space apart: "STOP_PROMO" -> "stop promo". */
static bool
button_words(const StopText *t, char *buf, size_t size)
{
	size_t		n = 0;

	buf[0] = '\0';
	for (int k = 0; k < t->ntok; k++)
	{
		size_t		w = strlen(t->tok[k].word);

		if (t->tok[k].boundary)
			continue;
		if (n + w + 2 > size)
			return false;
		if (n > 0)
			buf[n++] = ' ';
		memcpy(buf + n, t->tok[k].word, w + 1);
		n += w;
	}
	return !t->truncated;
}

static StopVerdict
classify_button(const StopText *t, StopResult *out)
{
	char		words[128];
	char		q[QUOTE_MAX + 8];

	quote(t, 0, t->ntok, q, sizeof(q));
	if (button_words(t, words, sizeof(words)))
		for (size_t i = 0; i < sizeof(opt_out_buttons) / sizeof(opt_out_buttons[0]); i++)
			if (strcmp(words, opt_out_buttons[i]) == 0)
			{
				out->verdict = STOP_VERDICT_STOP;
				out->rule = "opt_out_button";
				snprintf(out->explanation, STOP_EXPLANATION_MAX,
						 "button '%s' is an explicit opt-out payload", q);
				return out->verdict;
			}
	out->verdict = STOP_VERDICT_NOT_STOP;
	out->rule = "business_button";
	snprintf(out->explanation, STOP_EXPLANATION_MAX,
			 "button '%s' was defined by the business and is not an opt-out payload", q);
	return out->verdict;
}

StopVerdict
stop_classify(const char *utf8, StopSource source, StopResult *out)
{
	StopText	t;
	Reading		r = {.t = &t, .out = out};

	if (!compiled_ready)
		compile_patterns();
	stop_fold(utf8, &t);
	out->verdict = STOP_VERDICT_NOT_STOP;
	if (t.ntok == 0)
	{
		out->rule = "empty";
		snprintf(out->explanation, STOP_EXPLANATION_MAX, "no words");
		return out->verdict;
	}
	if (source == STOP_SOURCE_BUTTON)
		return classify_button(&t, out);
	out->rule = "none";
	snprintf(out->explanation, STOP_EXPLANATION_MAX, "no stop phrase");
	for (;;)
	{
		read_window(&r);
		if (!t.truncated || r.rank == 3)
			break;
		stop_fold_at(utf8, word_at(&t, t.ntok - STOP_WINDOW_OVERLAP), &t);
		r.own_from = r.own_to;
	}
	return out->verdict;
}

const char *
stop_verdict_name(StopVerdict v)
{
	return v == STOP_VERDICT_STOP ? "stop" : v == STOP_VERDICT_DOUBTFUL ? "doubtful" : "not_stop";
}

bool
stop_source_parse(const char *s, StopSource *out)
{
	if (strcmp(s, "text") == 0)
		*out = STOP_SOURCE_TEXT;
	else if (strcmp(s, "button") == 0 || strcmp(s, "interactive") == 0)
		*out = STOP_SOURCE_BUTTON;
	else
		return false;
	return true;
}

const char *
stop_patterns_check(void)
{
	if (!compiled_ready)
		compile_patterns();
	for (int p = 0; p < NPATTERNS; p++)
		if (!compiled[p].valid)
			return patterns[p].pattern;
	return NULL;
}

bool
opt_out_text(const char *utf8)
{
	StopResult	r;

	return stop_classify(utf8, STOP_SOURCE_TEXT, &r) == STOP_VERDICT_STOP;
}
