/*
 * stop_lexicon.c
 *		The words the stop-request patterns know, as leads write them on
 *		WhatsApp in Portuguese, Spanish and English (already folded: lower
 *		case, no accents).
 *
 * Three tables: spellings (abbreviations and common typos mapped to one
 * form), two-word forms read as one ("por favor" -> "pf", "opt out" ->
 * "optout", "do not" -> "dont"), and word classes.  A word may sit in several
 * classes ("para" is a bare stop word, the verb of "para de mandar" and a
 * preposition).  Lists are space-separated so they read like the language.
 */
#include "stop_fold.h"

#include <stddef.h>
#include <string.h>

typedef struct Spelling
{
	const char *canonical;
	const char *variants;
} Spelling;

static const Spelling spellings[] = {
	{"nao", "n naum nn naao nop"},
	{"quero", "qro qr qero kero qeru"},
	{"que", "q"},
	{"voce", "vc ce"},
	{"voces", "vcs vc6 voceis"},
	{"pf", "pfv pfvr pfvor pls plz please porfa porfavor"},
	{"obrigado", "obg obgd obgda obrigada brigado brigada"},
	{"mensagem", "msg msgm mensagen mensage menssagem mensgem"},
	{"mensagens", "msgs msgns mensagems menssagens mensages"},
	{"mensajes", "msj msjs"},
	{"whatsapp", "wpp zap zapzap whatsap"},
	{"nada", "nd nda"},
	{"tudo", "td"},
	{"hoje", "hj"},
	{"de", "d"},
	{"muito", "mt mto"},
	{"porque", "pq"},
	{"tambem", "tb tbm"},
	{"mesmo", "msm"},
	{"aqui", "aki"},
	{"ok", "okk okay oki okey"},
	{"valeu", "vlw"},
	{"receber", "recber receer"},
	{"descadastrar", "descadastar"},
	{"unsubscribe", "unsuscribe unsubcribe unsubscrib"},
};

typedef struct Bigram
{
	const char *first;
	const char *second;
	const char *merged;
} Bigram;

static const Bigram bigrams[] = {
	{"por", "favor", "pf"},
	{"se", "puder", "pf"},		/* "se puder, me tira da lista": polite, not a condition */
	{"se", "possivel", "pf"},
	{"if", "possible", "pf"},
	{"si", "puedes", "pf"},
	{"opt", "out", "optout"},
	{"do", "not", "dont"},
	{"does", "not", "dont"},
	{"did", "not", "didnt"},
	{"stop", "all", "stopall"},
	{"any", "more", "anymore"},
	{"de", "novo", "again"},
	{"bom", "dia", "oi"},
	{"boa", "tarde", "oi"},
	{"boa", "noite", "oi"},
	{"tudo", "bem", "oi"},
	{"buenos", "dias", "oi"},
	{"buenas", "tardes", "oi"},
	{"buenas", "noches", "oi"},
	{"good", "morning", "oi"},
	{"good", "afternoon", "oi"},
	{"thank", "you", "thanks"},
	{"muito", "obrigado", "obrigado"},
};

typedef struct WordClass
{
	StopClass	cls;
	const char *name;			/* as the patterns write it */
	const char *words;
} WordClass;

static const WordClass classes[] = {
	{SC_NEG, "NEG", "nao no nunca jamais never not dont didnt cant wont nem ni sem"},
	{SC_FILLER, "FILLER",
		"oi ola hola hi hello hey opa eai salve ei obrigado gracias thanks thx tks ty grato grata "
		"agradeco valeu pf favor k kk rs rsrs haha hahaha jaja lol ok blz beleza ta tchau bye adeus "
		"abs abraco abracos att atenciosamente bjs bj aff affs po poxa mano gente pessoal ai viu ne uai "
		"sorry desculpa desculpe amigo amiga senhor senhora sr sra"},
	{SC_FUNC, "FUNC",
		"o a os as um uma uns umas de da do das dos em no na nos nas num numa com pra pro pras pros "
		"por pelo pela e ou que me te se eu voce voces ele ela eles elas mim isso isto esse essa esses "
		"essas este esta estes estas aquele aquela meu minha meus minhas seu sua seus suas lhe ja "
		"para the an to of and or i you it my your this that these those we us at in on for with is "
		"are am im be el la los las lo le les y en mi mis tu tus su sus al del un una yo ya"},
	{SC_MSG, "MSG",
		"mensagem mensagens mensaje mensajes message messages text texts sms whatsapp notificacao "
		"notificacoes notificaciones notifications informacao informacoes informacion info infos "
		"conteudo conteudos novidades comunicados"},
	{SC_PROMO, "PROMO",
		"promocao promocoes promo promos promotion promotions promocion promociones propaganda "
		"propagandas publicidade publicidad anuncio anuncios oferta ofertas marketing spam"},
	{SC_SEND, "SEND",
		"mandar manda mande mandem mandando mandarem mandam mandes manden mandarme mandame enviar "
		"envia envie enviem enviando enviarem enviam envies envien enviarme enviame escrever escreve "
		"escrevam escrevendo escribir escribe escriban escribas escribirme escribiendo contactar "
		"contacten contactes contactarme contatar contate contatem chamar chama chamando encaminhar "
		"send sending text texting message messaging contact contacting spamming emailing"},
	{SC_RECV, "RECV",
		"receber recebe recebo recebendo receba recebam recibir recibo recibiendo reciba receive "
		"receiving get getting"},
	{SC_STOPV, "STOPV",
		"para pare parem param parar paren stop deixa deixe deixem deixar deja deje dejen dejar "
		"dejes quit cease"},
	{SC_HALT, "HALT", "para pare parem parar paren stop detener detenga detengan alto quit"},
	{SC_LEAVE, "LEAVE",
		"sair sai salir remover remove remova removam removem removido removida removed tirar tira "
		"tire tirem tirarem tirado tirada retirar retira retire retirem retirado retirada excluir "
		"exclui exclua excluam excluido excluida apagar apaga apague apaguem deletar deleta delete "
		"deletem deleted eliminar elimina elimine eliminen eliminenme eliminarme eliminame borrar "
		"borra borre borren borrenme borrarme borrame sacar saca saque saquen saquenme sacame sacarme "
		"quitar quita quite quiten quitenme quitame quitarme erase"},
	{SC_UNSUB, "UNSUB",
		"descadastrar descadastra descadastre descadastrem descadastro descadastrado descadastrada "
		"unsubscribe unsub unsubscribed optout stopall desuscribir desuscribirme desuscribanme "
		"desinscribir desinscribirme desinscrever desinscreva"},
	{SC_LIST, "LIST",
		"lista listas grupo grupos cadastro cadastros base mailing newsletter transmissao contatos "
		"list lists group database listado contactos difusion"},
	{SC_MYID, "MYID",
		"numero numeros contato contacto nome telefone celular cel fone email dados datos cadastro "
		"number phone name"},
	{SC_DEM, "DEM",
		"o a os as um uma esse essa esses essas este esta estes estas aquele aquela meu minha meus "
		"minhas seu sua seus suas vossa the this that these those your my el la los las un una esa "
		"ese esas esos estos mi mis tu tus su sus"},
	{SC_FROM, "FROM",
		"de da do das dos dessa desse dessas desses desta deste destas destes daqui dai d disso "
		"from of off del"},
	{SC_WANT, "WANT", "quero queria desejo gostaria preciso quiero deseo necesito want wanna wish"},
	{SC_MORE, "MORE", "mais mas more anymore"},
	{SC_BRIDGE, "BRIDGE",
		"me te se lo la le les eu i you yo quero queria quiero want wanna gostaria desejo deseo vou "
		"vai voy va gonna to pedi pediu pedir asked ask pra para ser be que precisa preciso need "
		"necesito de mim"},
	{SC_COND, "COND", "se if caso"},
	{SC_QUAL, "QUAL", "sobre about acerca so apenas somente only solo exceto except excepto menos salvo"},
	{SC_CANCEL, "CANCEL", "cancelar cancela cancele cancelem cancelo cancel cancelen canceled cancelled"},
	{SC_SUBS, "SUBS",
		"inscricao inscricoes assinatura assinaturas cadastro suscripcion subscripcion subscription "
		"suscripciones newsletter registro membership"},
	{SC_ACCOUNT, "ACCOUNT", "conta contas cuenta account contrato contract"},
	{SC_APPT, "APPT",
		"reuniao reunioes consulta agendamento agenda horario visita ligacao call chamada meeting "
		"appointment cita reunion pedido compra ordem order aplicacao resgate transferencia pix "
		"boleto ted doc operacao transaccion pagamento pago payment cartao tarjeta card debito "
		"aporte transfer"},
	{SC_FIN, "FIN",
		"fundo fundos investimento investimentos aplicacao posicao acao acoes cdb lci lca tesouro "
		"bolsa fii fiis carteira cripto criptos bitcoin previdencia fondo inversion fund position "
		"stock stocks mercado renda poupanca trade operacao"},
	{SC_GIVE, "GIVE", "dar darme dame deme denme den doy da dan darse dese darnos"},
	{SC_BOTHER, "BOTHER",
		"encher enchendo perturbar perturbando incomodar incomodando importunar amolar aporrinhar "
		"molestar molestando bothering bugging harassing incomode incomodem perturbe perturbem "
		"incomodado incomodada perturbado perturbada importunado importunada molesten molestes"},
	{SC_CALL, "CALL", "ligar ligando liga ligue ligarem llamar llamarme llamando llamen calling call"},
	{SC_THREAT, "THREAT",
		"bloquear bloqueio bloqueando bloqueei bloquearte bloqueado bloqueada bloqueo blocking "
		"denunciar denuncio denunciando denunciarei denunciado denunciados reportar spam"},
	{SC_INTEREST, "INTEREST",
		"interesse interes interest interested interessa interesa interessado interessada "
		"interesado interesada"},
	{SC_HAVE, "HAVE", "tenho tengo have estou estoy am im"},
};

#define LENGTH(a) (sizeof(a) / sizeof((a)[0]))

/* Is word one of the space-separated words of list? */
bool
stop_word_in_list(const char *list, const char *word)
{
	size_t		n = strlen(word);

	if (n == 0)
		return false;
	for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* The canonical spelling of word (word itself if it has no other) and its classes. */
const char *
stop_lexicon_lookup(const char *word, StopClass *cls)
{
	const char *canon = word;

	for (size_t i = 0; i < LENGTH(spellings); i++)
		if (stop_word_in_list(spellings[i].variants, word))
		{
			canon = spellings[i].canonical;
			break;
		}
	*cls = 0;
	for (size_t i = 0; i < LENGTH(classes); i++)
		if (stop_word_in_list(classes[i].words, canon))
			*cls |= classes[i].cls;
	return canon;
}

/* Two canonical words read as one, or NULL. */
const char *
stop_lexicon_bigram(const char *first, const char *second)
{
	for (size_t i = 0; i < LENGTH(bigrams); i++)
		if (strcmp(bigrams[i].first, first) == 0 && strcmp(bigrams[i].second, second) == 0)
			return bigrams[i].merged;
	return NULL;
}

/* The class a pattern names ("NEG", "MSG"...), 0 if there is none. */
StopClass
stop_class_named(const char *name, int len)
{
	for (size_t i = 0; i < LENGTH(classes); i++)
		if ((int) strlen(classes[i].name) == len && strncmp(classes[i].name, name, len) == 0)
			return classes[i].cls;
	return 0;
}
