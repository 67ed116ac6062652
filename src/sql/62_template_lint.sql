-- Template and text policy lint: findings as rows, for campaigns before
-- they start and for people writing templates (src/core/template_lint.c).

CREATE FUNCTION antiban.lint_template(components jsonb, category text DEFAULT 'marketing')
RETURNS TABLE (severity text, rule text, location text, message text)
AS 'MODULE_PATHNAME', 'antiban_lint_template' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lint_template(jsonb, text) IS
    'Lint a template''s components (as Meta''s message_templates returns them, e.g. antiban.templates.components) for its category (marketing, utility, authentication). Rows: severity (error: Meta rejects it or the policy forbids it; warning: likely rejection or low quality), rule (variable_at_edge, adjacent_variables, malformed_variable, non_sequential_variables, mixed_variables, too_many_variables, too_long, missing_body, link_shortener, sensitive_data_request, missing_opt_out, all_caps, emoji_flood), location (header, body, footer, buttons.N) and message. No rows: nothing found.';

CREATE FUNCTION antiban.lint_text(body text, category text DEFAULT 'service')
RETURNS TABLE (severity text, rule text, location text, message text)
AS 'MODULE_PATHNAME', 'antiban_lint_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lint_text(text, text) IS
    'Lint a free text for its category (service by default; marketing, utility, authentication): too_long, link_shortener, sensitive_data_request (not for authentication), all_caps, emoji_flood, and missing_opt_out for marketing. Same rows as antiban.lint_template, location "text".';
