-- classify_stop reads only the first 96 words of a message (STOP_MAX_TOKENS)
-- and answers not_stop ("no stop phrase") for a long message whose explicit
-- opt-out comes after them: no stop, and no stop review either. The README:
-- "a stop word amid a long message is doubtful, for a person to settle".
-- A WhatsApp text may hold 4,096 characters; a polite customer explains at length.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS antiban;
RESET client_min_messages;
CREATE TEMP TABLE msgs AS
SELECT 'Boa tarde. Recebi a mensagem de vocês ontem à noite sobre o CDB com liquidez diária e fiquei pensando bastante sobre o assunto. '
    || 'Conversei com a minha esposa, olhamos juntos as nossas contas do mês, o financiamento do apartamento, a escola das crianças, '
    || 'o plano de saúde que aumentou de novo em janeiro e o carro que precisa de revisão, e chegamos à conclusão de que neste momento '
    || 'não sobra dinheiro para aplicar em nada, nem em CDB, nem em tesouro, nem em previdência. Agradeço muito a atenção da equipe e '
    || 'a paciência do rapaz que me ligou na semana passada, foi muito educado e explicou tudo direitinho, mas por favor entendam a '
    || 'minha situação. Não quero mais receber mensagens.' AS m;
SELECT length(m) < 4096 AS fits_in_one_whatsapp_text,
       array_length(regexp_split_to_array(m, '\s+'), 1) > 96 AS more_than_96_words FROM msgs;
-- the closing sentence alone is a stop
SELECT verdict FROM antiban.classify_stop('Não quero mais receber mensagens.', 'text');
-- within the long message it must not vanish: a stop, or at least doubtful
SELECT verdict IN ('stop', 'doubtful') AS noticed FROM msgs, antiban.classify_stop(m, 'text');
SELECT antiban.is_opt_out(m) OR
       (SELECT verdict = 'doubtful' FROM antiban.classify_stop(m, 'text')) AS not_silently_ignored FROM msgs;
