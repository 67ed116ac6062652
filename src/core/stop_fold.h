/*
 * stop_fold.h
 *		An inbound WhatsApp message as the stop-request classifier reads it:
 *		words without case or accents, WhatsApp spellings mapped to one form
 *		("n", "naum" -> "nao"; "qro" -> "quero"; "pfv" -> "pf"), each word
 *		tagged with the word classes the patterns name (NEG, MSG, SEND...),
 *		and clause breaks where the person put punctuation or an emoji.
 */
#ifndef ANTIBAN_STOP_FOLD_H
#define ANTIBAN_STOP_FOLD_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One window of a message: enough for any stop request.  A longer message
 * is read window by window, each starting STOP_WINDOW_OVERLAP tokens before
 * the previous one ended (stop_request.c), so a request anywhere is seen.
 */
#define STOP_MAX_TOKENS 96
#define STOP_WINDOW_OVERLAP 32
#define STOP_WORD_MAX 24

typedef uint64_t StopClass;

#define SC_NEG		((StopClass) 1 << 0)	/* nao, no, not, dont, nunca, sem */
#define SC_FILLER	((StopClass) 1 << 1)	/* greetings, thanks, please, ok, kkk */
#define SC_FUNC		((StopClass) 1 << 2)	/* articles, prepositions, pronouns */
#define SC_MSG		((StopClass) 1 << 3)	/* mensagem, msg, mensaje, message */
#define SC_PROMO	((StopClass) 1 << 4)	/* promocoes, propaganda, promotions */
#define SC_SEND		((StopClass) 1 << 5)	/* mandar, enviar, escribir, text */
#define SC_RECV		((StopClass) 1 << 6)	/* receber, recibir, receive */
#define SC_STOPV	((StopClass) 1 << 7)	/* para, pare, stop, deja: "... de mandar" */
#define SC_HALT		((StopClass) 1 << 8)	/* a bare stop word: parar, stop, detener */
#define SC_LEAVE	((StopClass) 1 << 9)	/* sair, tirar, remover, salir, remove */
#define SC_UNSUB	((StopClass) 1 << 10)	/* descadastrar, unsubscribe, optout */
#define SC_LIST		((StopClass) 1 << 11)	/* lista, grupo, cadastro, list */
#define SC_MYID		((StopClass) 1 << 12)	/* numero, contato, number */
#define SC_DEM		((StopClass) 1 << 13)	/* o, essa, meu, the, your, la, mi */
#define SC_FROM		((StopClass) 1 << 14)	/* de, da, dessa, from, off, del */
#define SC_WANT		((StopClass) 1 << 15)	/* quero, gostaria, quiero, want */
#define SC_MORE		((StopClass) 1 << 16)	/* mais, mas, more, anymore */
#define SC_BRIDGE	((StopClass) 1 << 17)	/* may sit between a negation and its verb */
#define SC_COND		((StopClass) 1 << 18)	/* se, if, caso */
#define SC_QUAL		((StopClass) 1 << 19)	/* sobre, so, apenas, only, except */
#define SC_CANCEL	((StopClass) 1 << 20)	/* cancelar, cancel */
#define SC_SUBS		((StopClass) 1 << 21)	/* inscricao, assinatura, suscripcion */
#define SC_ACCOUNT	((StopClass) 1 << 22)	/* conta, cuenta, account, contrato */
#define SC_APPT		((StopClass) 1 << 23)	/* reuniao, pedido, ted, meeting */
#define SC_FIN		((StopClass) 1 << 24)	/* fundo, acao, posicao, fund */
#define SC_GIVE		((StopClass) 1 << 25)	/* dame, darme, denme: "... de baja" */
#define SC_BOTHER	((StopClass) 1 << 26)	/* encher, perturbar, incomodar */
#define SC_CALL		((StopClass) 1 << 27)	/* ligar, llamar, call */
#define SC_THREAT	((StopClass) 1 << 28)	/* bloquear, denunciar, spam, report */
#define SC_INTEREST ((StopClass) 1 << 29)	/* interesse, interesa, interested */
#define SC_HAVE		((StopClass) 1 << 30)	/* tenho, tengo, estou, am */

typedef struct StopToken
{
	char		word[STOP_WORD_MAX];	/* folded, canonical; "," for a break */
	StopClass	classes;
	int			start;			/* bytes of the original text it came from */
	int			end;
	bool		boundary;		/* a clause break */
} StopToken;

typedef struct StopText
{
	const char *text;			/* the original, for quoting */
	StopToken	tok[STOP_MAX_TOKENS];	/* start and end are offsets in text */
	int			ntok;
	int			from;			/* byte where this window starts: > 0, words before it */
	bool		truncated;		/* more words after the window */
} StopText;

/* Folds utf8 (may be NULL, may be invalid UTF-8) into out. */
extern void stop_fold(const char *utf8, StopText *out);

/* The same from byte from of utf8, the start of a word a previous fold found. */
extern void stop_fold_at(const char *utf8, int from, StopText *out);

/* The lexicon (stop_lexicon.c). */
extern const char *stop_lexicon_lookup(const char *word, StopClass *classes);
extern const char *stop_lexicon_bigram(const char *first, const char *second);
extern StopClass stop_class_named(const char *name, int len);
extern bool stop_word_in_list(const char *list, const char *word);

#endif							/* ANTIBAN_STOP_FOLD_H */
