import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, getSchemaPath } from '@nestjs/swagger';
import { HttpErrorDto } from '../../common/dto/http-error.dto';
import { ApiOperationDocs, DocumentedAnswer } from '../../docs/api-operation.decorator';
import { EvaluationDto } from '../dto/call-responses.dto';
import { RoutingRuleDto } from './dto/routing-rules.dto';
import { RulesChangeDto, RulesInvalidDto, RulesViewDto } from './dto/rules-responses.dto';

const INVALID: DocumentedAnswer = {
  description:
    'the resulting rules are not valid (every problem listed, with its path), or the request is malformed',
  schema: {
    oneOf: [{ $ref: getSchemaPath(RulesInvalidDto) }, { $ref: getSchemaPath(HttpErrorDto) }],
  },
};

/** The answers every edit can give besides its own. */
const EDIT_ERRORS = {
  409: 'a rules file (RULES_FILE) owns the rules: edit the file instead',
  412: 'If-Match names a version that is no longer current: reload and reapply the edit',
  428: 'If-Match is missing: send the ETag of GET /rules',
};

const EDITED = {
  description: 'the new rule set is live; its version is also in the ETag header',
  type: RulesChangeDto,
};

interface EditDocs {
  /** Answers of this edit besides the shared ones. */
  errors?: Record<number, string | DocumentedAnswer>;
  /** Whether the edit takes rules that may not be valid (400). A deletion does not. */
  takesRules?: boolean;
  status?: number;
}

function edit(summary: string, { errors = {}, takesRules = true, status = 200 }: EditDocs = {}) {
  const answers: Record<number, string | DocumentedAnswer> = { ...EDIT_ERRORS, ...errors };
  if (takesRules) answers[400] = INVALID;
  return applyDecorators(
    ApiExtraModels(RulesInvalidDto),
    ApiOperationDocs({
      summary,
      description: 'Names the version it applies to in `If-Match` (the ETag of `GET /rules`).',
      admin: true,
      ok: { [status]: EDITED },
      errors: answers,
    }),
  );
}

/** The OpenAPI description of each operation of `RulesController`. */
export const RulesDocs = {
  list: ApiOperationDocs({
    summary: 'The live routing rules: document, version (also the ETag), warnings, source',
    admin: true,
    ok: { 200: { description: 'the live rules', type: RulesViewDto } },
  }),
  replaceAll: edit('Replace the whole rule set'),
  evaluate: applyDecorators(
    ApiExtraModels(RulesInvalidDto),
    ApiOperationDocs({
      summary: 'Try a call against the rules without calling anyone',
      description:
        'Which rule matched, the rendered action, and for every rule before it the condition that failed. Against the live rules, or the `rules` given.',
      admin: true,
      ok: { 200: { description: 'the decision, explained', type: EvaluationDto } },
      errors: { 400: INVALID },
    }),
  ),
  reorder: edit('Change the written order of the rules (every id once)'),
  get: ApiOperationDocs({
    summary: 'One rule, by id',
    admin: true,
    ok: { 200: { description: 'the rule as written', type: RoutingRuleDto } },
    errors: { 404: 'no rule with that id' },
  }),
  create: edit('Add a rule at the end of the written order', {
    status: 201,
    errors: {
      409: 'a rule with that id exists (PUT /rules/{id} replaces it), or a rules file owns the rules',
    },
  }),
  replace: edit('Replace one rule', { errors: { 404: 'no rule with that id' } }),
  remove: edit('Delete one rule', { takesRules: false, errors: { 404: 'no rule with that id' } }),
};
