/*
 * lead_features.c
 *		The named features of the lead model and their words.
 *
 * Reasons are kept in Portuguese (the sales team's language, the default)
 * and English (for managers and engineers who read the code and the
 * logs); antiban.lead_reason_language picks one.  Each phrase completes
 * "+18 ..." or "-12 ...": the sign and the points come first, so phrases
 * are written the same way for pushes up and pushes down.
 */
#include "lead_features.h"

#include <stddef.h>
#include <string.h>

static const LeadFeatureInfo catalog[] = {
	{LF_PRODUCT_CDB, "product_cdb", "perguntou sobre CDB", "asked about CDBs"},
	{LF_PRODUCT_LCI_LCA, "product_lci_lca", "perguntou sobre LCI/LCA", "asked about LCI/LCA"},
	{LF_PRODUCT_TESOURO, "product_tesouro", "perguntou sobre Tesouro Direto", "asked about Tesouro Direto"},
	{LF_PRODUCT_STOCKS, "product_stocks", "falou de ações ou bolsa", "talked about stocks"},
	{LF_PRODUCT_FII, "product_fii", "perguntou sobre fundos imobiliários", "asked about real-estate funds (FII)"},
	{LF_PRODUCT_PENSION, "product_pension", "perguntou sobre previdência", "asked about pension plans (PGBL/VGBL)"},
	{LF_PRODUCT_FUNDS, "product_funds", "perguntou sobre fundos", "asked about funds"},
	{LF_PRODUCT_CRYPTO, "product_crypto", "falou de cripto", "talked about crypto"},
	{LF_PRODUCT_FIXED_INCOME, "product_fixed_income", "perguntou sobre renda fixa", "asked about fixed income"},
	{LF_PRODUCT_ABROAD, "product_abroad", "quer investir em dólar ou no exterior", "wants to invest abroad or in dollars"},
	{LF_ASKED_YIELD, "asked_yield", "perguntou quanto rende", "asked about the yield"},
	{LF_WANTS_ACCOUNT, "wants_account", "quer abrir conta", "wants to open an account"},
	{LF_WANTS_CALL, "wants_call", "pediu ligação ou reunião", "asked for a call or a meeting"},
	{LF_PORTABILITY, "portability", "quer trazer investimentos de outro lugar", "wants to move investments from elsewhere"},
	{LF_URGENCY, "urgency", "tem pressa", "is in a hurry"},
	{LF_HAS_SAVINGS, "has_savings", "tem dinheiro parado ou na poupança", "has idle money or savings"},
	{LF_ASKED_FEES, "asked_fees", "perguntou sobre taxas", "asked about fees"},
	{LF_COMPETITOR, "competitor", "citou outra corretora ou banco", "mentioned another broker or bank"},
	{LF_ASKED_SAFETY, "asked_safety", "perguntou sobre segurança ou FGC", "asked about safety or deposit insurance"},
	{LF_ASKED_QUESTION, "asked_question", "fez perguntas", "asked questions"},
	{LF_READY_TO_INVEST, "ready_to_invest", "disse que quer investir", "said they want to invest"},
	{LF_AMOUNT_UNDER_10K, "amount_under_10k", "citou valor abaixo de R$ 10 mil", "mentioned less than R$ 10k"},
	{LF_AMOUNT_10K, "amount_10k", "citou valor de R$ 10 mil a 50 mil", "mentioned R$ 10k to 50k"},
	{LF_AMOUNT_50K, "amount_50k", "citou valor de R$ 50 mil a 200 mil", "mentioned R$ 50k to 200k"},
	{LF_AMOUNT_200K, "amount_200k", "citou valor de R$ 200 mil a 1 milhão", "mentioned R$ 200k to 1M"},
	{LF_AMOUNT_1M, "amount_1m", "citou valor acima de R$ 1 milhão", "mentioned more than R$ 1M"},
	{LF_HORIZON_SHORT, "horizon_short", "prazo curto (menos de 1 ano)", "short horizon (under a year)"},
	{LF_HORIZON_MEDIUM, "horizon_medium", "prazo de 1 a 5 anos", "a 1 to 5 year horizon"},
	{LF_HORIZON_LONG, "horizon_long", "pensa no longo prazo", "thinks long term"},
	{LF_NO_MONEY, "no_money", "disse que está sem dinheiro", "said they have no money"},
	{LF_JUST_CURIOUS, "just_curious", "disse que é só curiosidade", "said they are just curious"},
	{LF_NOT_INTERESTED, "not_interested", "disse que não tem interesse", "said they are not interested"},
	{LF_LATER, "later", "vai pensar ou deixou para depois", "will think about it or later"},
	{LF_DISTRUST, "distrust", "desconfia (golpe, pirâmide)", "suspects a scam"},
	{LF_QUICK_MONEY, "quick_money", "quer dinheiro rápido", "wants quick money"},
	{LF_WANTS_LOAN, "wants_loan", "procura empréstimo ou crédito", "is looking for a loan"},
	{LF_HAS_ADVISOR, "has_advisor", "já tem assessor ou gerente", "already has an advisor"},
	{LF_STOP_REQUEST, "stop_request", "pediu para parar as mensagens", "asked us to stop messaging"},
	{LF_WRONG_PERSON, "wrong_person", "número errado ou outra pessoa", "wrong number or person"},
	{LF_FEES_OBJECTION, "fees_objection", "achou caro ou reclamou de taxa", "found it expensive"},
	{LF_ENG_REPLIES, "replies", "respondeu às mensagens", "replied to our messages"},
	{LF_ENG_QUICK, "quick_replies", "responde rápido", "replies quickly"},
	{LF_ENG_READS, "reads", "leu as mensagens", "read our messages"},
	{LF_ENG_TAPS, "taps", "tocou em botões", "tapped buttons"},
	{LF_NEVER_REPLIED, "never_replied", "nunca respondeu", "never replied"},
	{LF_SILENT_1D, "silent_1d", "sem resposta há 1 a 3 dias", "no reply for 1 to 3 days"},
	{LF_SILENT_3D, "silent_3d", "sem resposta há 3 a 7 dias", "no reply for 3 to 7 days"},
	{LF_SILENT_7D, "silent_7d", "sem resposta há 7 a 14 dias", "no reply for 7 to 14 days"},
	{LF_SILENT_14D, "silent_14d", "sem resposta há mais de 14 dias", "no reply for over 14 days"},
	{LF_FAILURES, "failures", "mensagens não entregues (131049/131026)", "messages not delivered (131049/131026)"},
	{LF_OPTED_OUT, "opted_out", "pediu para sair (opt-out)", "opted out"},
	{LF_BLOCKED, "blocked", "bloqueou ou denunciou o número", "blocked or reported us"},
};

#define NCATALOG ((int) (sizeof(catalog) / sizeof(catalog[0])))

const LeadFeatureInfo *
lead_feature_info(int id)
{
	int			lo = 0,
				hi = NCATALOG - 1;

	/* the catalog is in id order (a unit test checks it) */
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (catalog[mid].id == id)
			return &catalog[mid];
		if (catalog[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

const LeadFeatureInfo *
lead_feature_by_key(const char *key)
{
	for (int i = 0; key && i < NCATALOG; i++)
		if (strcmp(catalog[i].key, key) == 0)
			return &catalog[i];
	return NULL;
}

const LeadFeatureInfo *
lead_feature_catalog(int *n)
{
	*n = NCATALOG;
	return catalog;
}
