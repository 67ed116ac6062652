/*
 * test_stop_request.c
 *		Stop requests: folding, negation, conditions and length, the button
 *		rule, and the issue's own examples.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stop_fold.h"
#include "core/stop_request.h"

/* The folded words of text, one space apart, "," for a clause break. */
static const char *
folded(const char *text)
{
	static char buf[1024];
	static StopText t;
	size_t		n = 0;

	stop_fold(text, &t);
	buf[0] = '\0';
	for (int k = 0; k < t.ntok; k++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s", k ? " " : "", t.tok[k].word);
	return buf;
}

static StopResult
classify(const char *text, StopSource source)
{
	StopResult	r;

	stop_classify(text, source, &r);
	return r;
}

static void
assert_verdict(const char *text, StopSource source, StopVerdict want, const char *rule)
{
	StopResult	r = classify(text, source);

	if (r.verdict != want || (rule && strcmp(r.rule, rule) != 0))
		fail_msg("\"%s\": %s/%s (%s), wanted %s/%s", text, stop_verdict_name(r.verdict), r.rule,
				 r.explanation, stop_verdict_name(want), rule ? rule : "any");
}

#define STOP(text, rule) assert_verdict(text, STOP_SOURCE_TEXT, STOP_VERDICT_STOP, rule)
#define DOUBT(text, rule) assert_verdict(text, STOP_SOURCE_TEXT, STOP_VERDICT_DOUBTFUL, rule)
#define NOT_STOP(text, rule) assert_verdict(text, STOP_SOURCE_TEXT, STOP_VERDICT_NOT_STOP, rule)

static void
folding(void **state)
{
	assert_string_equal(folded("NÃO Quero MAIS!!"), "nao quero mais");
	/* a combining tilde (U+0303) after the letter, as some keyboards send it */
	assert_string_equal(folded("Na\xcc\x83o"), "nao");
	assert_string_equal(folded("PARAAAA"), "para");
	assert_string_equal(folded("stoooop"), "stop");
	assert_string_equal(folded("don't"), "dont");
	assert_string_equal(folded("don\xe2\x80\x99t"), "dont");	/* typographic apostrophe */
	assert_string_equal(folded("Do not"), "dont");
	/* WhatsApp spellings */
	assert_string_equal(folded("n qro mais msg vcs pfv"), "nao quero mais mensagem voces pf");
	assert_string_equal(folded("Ñ"), "nao");
	assert_string_equal(folded("por favor"), "pf");
	assert_string_equal(folded("OPT-OUT"), "optout");
	assert_string_equal(folded("STOP_PROMO"), "stop promo");
	/* punctuation and emoji break clauses; leading and trailing breaks vanish */
	assert_string_equal(folded("Parar, obrigado."), "parar , obrigado");
	assert_string_equal(folded("🙏 sair 😡 agora 👍"), "sair , agora");
	assert_string_equal(folded("¿Cuándo?"), "cuando");
	assert_string_equal(folded("Ação"), "acao");
	/* doubles stay: "cc", "ee" */
	assert_string_equal(folded("leer"), "leer");
	assert_string_equal(folded(""), "");
	assert_string_equal(folded(NULL), "");
}

static void
folding_bad_input(void **state)
{
	StopText	t;
	char		big[4096];

	/* invalid UTF-8, a sequence cut by the end of the string */
	assert_string_equal(folded("\xff\xfe sair \xc3"), "sair");
	assert_string_equal(folded("pa\xe2\x80"), "pa");
	/* a word longer than any stop word cannot match one */
	assert_string_equal(folded("paraaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), "#");
	/* more words than we read: flagged, never overrun */
	big[0] = '\0';
	for (int i = 0; i < 500; i++)
		strcat(big, "oi ");
	stop_fold(big, &t);
	assert_int_equal(t.ntok, STOP_MAX_TOKENS);
	assert_true(t.truncated);
	/* the next window starts at a word and keeps offsets in the whole text */
	stop_fold_at(big, 1470, &t);
	assert_int_equal(t.ntok, 10);
	assert_int_equal(t.tok[0].start, 1470);
	assert_false(t.truncated);
}

/* Random bytes: no crash, no read past the end, always a verdict. */
static void
random_bytes(void **state)
{
	unsigned	seed = 12345;
	char		buf[300];

	for (int i = 0; i < 20000; i++)
	{
		int			n = (int) ((seed = seed * 1103515245 + 12345) >> 16) % (int) (sizeof(buf) - 1);
		StopResult	r;

		for (int k = 0; k < n; k++)
		{
			seed = seed * 1103515245 + 12345;
			buf[k] = (char) ((seed >> 16) % 255 + 1);
		}
		buf[n] = '\0';
		assert_true(stop_classify(buf, i % 2 ? STOP_SOURCE_BUTTON : STOP_SOURCE_TEXT, &r) == r.verdict);
		assert_non_null(r.rule);
		assert_true(strlen(r.explanation) < STOP_EXPLANATION_MAX);
	}
}

/* The examples of the issue. */
static void
issue_examples(void **state)
{
	STOP("Não quero mais receber mensagens", "no_more_messages");
	STOP("Sair da lista", "leave_list");
	STOP("por favor, parar", "stop_word");
	STOP("Parar, obrigado", "stop_word");
	STOP("No quiero recibir más mensajes", "no_more_messages");
	STOP("dame de baja", "dar_de_baja");
	STOP("stop please", "stop_word");
	assert_verdict("Cancel", STOP_SOURCE_BUTTON, STOP_VERDICT_NOT_STOP, "business_button");
	/* typed, "Cancelar" may be about anything: a person decides, marketing is not blocked */
	DOUBT("Cancelar", "cancel");
	NOT_STOP("não quero sair", "negated");
}

static void
negation(void **state)
{
	NOT_STOP("não quero sair", "negated");
	NOT_STOP("nao quero sair da lista", "negated");
	NOT_STOP("não pare, tô gostando", "negated");
	NOT_STOP("don't stop", "negated");
	NOT_STOP("no me den de baja", "negated");
	NOT_STOP("eu não pedi pra sair da lista", "negated");
	NOT_STOP("please don't remove me from the list", "negated");
	/* Brazilian trailing negation */
	NOT_STOP("quero sair não", "negated");
	/* the negation is the request itself */
	STOP("não quero mais", "no_more");
	STOP("nao me mande mais nada", "dont_send");
	/* a "no" that answers, then a request: the comma ends the negation */
	STOP("Não, quero sair da lista", "leave_list");
	STOP("nao tenho interesse, para de mandar mensagem", "stop_sending");
	/* the explanation quotes the message as typed */
	assert_string_equal(classify("Não quero sair", STOP_SOURCE_TEXT).explanation, "negated: 'Não quero sair'");
}

static void
other_meanings(void **state)
{
	NOT_STOP("Para quando é o pagamento?", "para_preposition");
	NOT_STOP("parar de fumar foi a melhor coisa", "none");
	NOT_STOP("para de chover e eu passo aí", "none");
	NOT_STOP("quero cancelar a reunião", "cancel_appointment");
	NOT_STOP("quero cancelar o pedido", "cancel_appointment");
	NOT_STOP("I'll stop by the office", "stop_other_meaning");
	NOT_STOP("qual o stop loss?", "stop_other_meaning");
	NOT_STOP("quero sair do fundo", "leave_investment");
	NOT_STOP("me tira uma dúvida", "question");
	NOT_STOP("la tasa está baja", "none");
	NOT_STOP("Não me mande o boleto ainda", "none");
}

static void
doubt(void **state)
{
	DOUBT("não tenho interesse", "not_interested");
	DOUBT("vou denunciar vocês", "threat");
	DOUBT("quem te deu meu número?", "no_consent");
	DOUBT("dar de baja mi cuenta", "close_account");
	DOUBT("Se continuar mandando mensagem vou sair da lista", "conditional");
	DOUBT("não quero mais receber mensagens sobre cripto", "partial");
	DOUBT("Vocês vão parar de mandar o extrato por email?", "stop_sending_something");
	/* a stop word amid a long message: a person decides; an explicit phrase still stops */
	DOUBT("Eu falei com o assessor ontem e ele disse que ia me mandar a proposta mas nada, parem",
		  "long_message");
	STOP("Eu falei com o assessor ontem e ele disse que ia me mandar a proposta mas nada, "
		 "não quero mais receber mensagens", "no_more_messages");
	/* a bare word tolerates less around it than a phrase */
	STOP("Parem, vcs são chatos demais", "stop_word");
	DOUBT("stop, deixa eu ver com minha esposa primeiro", "long_message");
}

static void
buttons(void **state)
{
	const char *const opt_outs[] = {"STOP", "PARAR", "OPT_OUT", "UNSUBSCRIBE", "SAIR", "DESCADASTRAR",
	"Parar promoções", "Stop promotions", "STOP_PROMO", "Detener promociones"};
	const char *const answers[] = {"Cancel", "Cancelar", "Cancelar agendamento", "Não tenho interesse",
	"Parar atendimento", "Sair do atendimento", "Sim, quero saber mais", "Agendar"};

	for (size_t i = 0; i < sizeof(opt_outs) / sizeof(opt_outs[0]); i++)
		assert_verdict(opt_outs[i], STOP_SOURCE_BUTTON, STOP_VERDICT_STOP, "opt_out_button");
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
		assert_verdict(answers[i], STOP_SOURCE_BUTTON, STOP_VERDICT_NOT_STOP, "business_button");
	/* a button is never read as a phrase: no doubt, the business defined it */
	assert_verdict("Não quero mais receber mensagens sobre cripto", STOP_SOURCE_BUTTON,
				   STOP_VERDICT_NOT_STOP, "business_button");
	/* the same words typed are read as text */
	STOP("Parar promoções", "stop_sending");
	assert_string_equal(classify("Parar promoções", STOP_SOURCE_BUTTON).explanation,
						"button 'Parar promoções' is an explicit opt-out payload");
}

static void
sources_and_wrapper(void **state)
{
	StopSource	s;

	assert_true(stop_source_parse("text", &s) && s == STOP_SOURCE_TEXT);
	assert_true(stop_source_parse("button", &s) && s == STOP_SOURCE_BUTTON);
	assert_true(stop_source_parse("interactive", &s) && s == STOP_SOURCE_BUTTON);
	assert_false(stop_source_parse("image", &s));
	assert_string_equal(stop_verdict_name(STOP_VERDICT_DOUBTFUL), "doubtful");
	/* every word class a pattern names exists */
	assert_null(stop_patterns_check());
	/* antiban.is_opt_out: a STOP only */
	assert_true(opt_out_text("Não quero mais receber mensagens"));
	assert_false(opt_out_text("não tenho interesse"));
	assert_false(opt_out_text("Cancel"));
	assert_false(opt_out_text(NULL));
	NOT_STOP("", "empty");
	NOT_STOP("👍", "empty");
}

static void
explanations(void **state)
{
	assert_string_equal(classify("Não quero mais receber mensagens", STOP_SOURCE_TEXT).explanation,
						"'Não quero mais receber mensagens' (PT opt-out phrase)");
	assert_string_equal(classify("dame de baja por favor", STOP_SOURCE_TEXT).explanation,
						"'dame de baja' (ES opt-out phrase)");
	assert_string_equal(classify("quero cancelar a reunião", STOP_SOURCE_TEXT).explanation,
						"'cancelar a reunião' (an appointment, order or payment, not marketing)");
}

/* before filler words, the phrase, after more: in a heap buffer. */
static char *
padded(int before, const char *phrase, int after)
{
	const char *word = "casa ";
	char	   *m = malloc(strlen(word) * (before + after) + strlen(phrase) + 2);
	char	   *p = m;

	for (int i = 0; i < before + after; i++)
	{
		if (i == before)
			p += sprintf(p, "%s ", phrase);
		p += sprintf(p, "%s", word);
	}
	if (after == 0)
		p += sprintf(p, "%s", phrase);
	*p = '\0';
	return m;
}

/*
 * A request anywhere in a long message is seen: the message is read in
 * overlapping windows to its end, not cut after the first one.
 */
static void
long_messages(void **state)
{
	/* the tester's case: 120 polite words, the opt-out last */
	const char *polite =
		"Boa tarde. Recebi a mensagem de vocês ontem à noite sobre o CDB com liquidez diária e fiquei "
		"pensando bastante sobre o assunto. Conversei com a minha esposa, olhamos juntos as nossas contas "
		"do mês, o financiamento do apartamento, a escola das crianças, o plano de saúde que aumentou de "
		"novo em janeiro e o carro que precisa de revisão, e chegamos à conclusão de que neste momento não "
		"sobra dinheiro para aplicar em nada, nem em CDB, nem em tesouro, nem em previdência. Agradeço muito "
		"a atenção da equipe e a paciência do rapaz que me ligou na semana passada, foi muito educado e "
		"explicou tudo direitinho, mas por favor entendam a minha situação. Não quero mais receber mensagens.";

	STOP(polite, "no_more_messages");
	assert_string_equal(classify(polite, STOP_SOURCE_TEXT).explanation,
						"'Não quero mais receber mensagens' (PT opt-out phrase)");

	/* at every place across several window edges */
	for (int before = 0; before < 3 * STOP_MAX_TOKENS; before += 7)
	{
		char	   *explicit = padded(before, ", não quero mais receber mensagens,", 200);
		char	   *plain = padded(before, ", parem de mandar isso,", 200);
		char	   *negated = padded(before, ", não quero sair da lista,", 200);
		char	   *last = padded(before + 200, ", pare", 0);

		STOP(explicit, "no_more_messages");
		/* a stop phrase that names no messages, amid a long message: a person decides */
		DOUBT(plain, "long_message");
		NOT_STOP(negated, "negated");
		DOUBT(last, "long_message");
		free(explicit);
		free(plain);
		free(negated);
		free(last);
	}
	/* the end of a window is not the end of a clause: "stop" then "loss" over an edge */
	for (int before = 0; before < 2 * STOP_MAX_TOKENS; before++)
	{
		char	   *m = padded(before, "stop loss", 100);

		NOT_STOP(m, NULL);
		free(m);
	}
}

/* A hostile megabyte: read once to its end, window by window (linear work). */
static void
huge_message(void **state)
{
	size_t		size = 1 << 20;
	char	   *m = malloc(size + 64);

	for (size_t i = 0; i < size; i += 2)
		memcpy(m + i, "a ", 2);
	strcpy(m + size, "nao quero mais receber mensagens");
	STOP(m, "no_more_messages");
	for (size_t i = 0; i < size; i += 2)
		memcpy(m + i, "a,", 2);
	strcpy(m + size, " pare");
	DOUBT(m, "long_message");
	free(m);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(folding),
	cmocka_unit_test(folding_bad_input),
	cmocka_unit_test(random_bytes),
	cmocka_unit_test(issue_examples),
	cmocka_unit_test(negation),
	cmocka_unit_test(other_meanings),
	cmocka_unit_test(doubt),
	cmocka_unit_test(buttons),
	cmocka_unit_test(sources_and_wrapper),
	cmocka_unit_test(explanations),
	cmocka_unit_test(long_messages),
	cmocka_unit_test(huge_message),
};

UnitGroup
stop_request_tests(void)
{
	return (UnitGroup) UNIT_GROUP("stop_request", tests);
}
