import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpException,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  Put,
  Res,
  UseGuards,
  ValidationPipe,
  Optional,
  Inject,
} from '@nestjs/common';
import type { Response } from 'express';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '../../common/guards/admin-token.guard';
import { ADMIN_AUTH } from '../../docs/api-docs';
import { RoutingRuleDto, RoutingRulesDocumentDto } from './dto/routing-rules.dto';
import { EvaluateRequestDto } from '../dto/evaluate-request.dto';
import { ReorderRulesDto } from '../dto/call-requests.dto';
import { deriveCallFacts } from '../sip/call-facts';
import { settleOnSurface } from '../surfaces/settle-surface';
import { SidebandService } from '../sideband/sideband.service';
import { JsonObjectPipe } from '../../common/pipes/json-object.pipe';
import { compileRuleSetInSlices, RulesValidationError } from './rule-set.compiler';
import { ActiveRules, RulesService } from './rules.service';
import { RulesDocs } from './rules.controller.docs';
import { CALL_TOOL_RUNNER, CallToolRunner } from '../tools/call-tool-runner';
import { toolNameWarnings } from './tool-name-warnings';

const strict = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true });
const oneRule = new JsonObjectPipe('one rule as a JSON object: { "id": ..., "action": ... }');
const ruleSet = new JsonObjectPipe('a rule set as a JSON object: { "rules": [...] }');

/**
 * The routing rules: read them, try them (`POST /rules/evaluate`), and, when no rules file owns
 * them, change them. Every change names the version it applies to (`If-Match`), so two
 * operators cannot silently overwrite each other's edit. Admin token required.
 */
@ApiTags('rules')
@ApiBearerAuth(ADMIN_AUTH)
@ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'the version (ETag) an edit applies to; required by every change',
})
@Controller('rules')
@UseGuards(AdminTokenGuard)
export class RulesController {
  constructor(
    private readonly rules: RulesService,
    @Optional() private readonly sidebands?: SidebandService,
    @Optional() @Inject(CALL_TOOL_RUNNER) private readonly tools?: CallToolRunner,
  ) {}

  /** The rule set's warnings, and those about `call_tools` no handler here implements. */
  private warningsOf(set: { warnings: readonly string[] }, document: unknown): string[] {
    return [...set.warnings, ...toolNameWarnings(document, this.tools)];
  }

  @Get()
  @RulesDocs.list
  list(@Res({ passthrough: true }) res: Response) {
    const active = this.rules.current;
    res.setHeader('ETag', `"${active.set.version}"`);
    return {
      version: active.set.version,
      source: active.source,
      ...(this.rules.managedByFile ? { file: true } : {}),
      loaded_at: active.loaded_at,
      warnings: this.warningsOf(active.set, active.document),
      ...(this.rules.lastReloadError ? { last_refused_edit: this.rules.lastReloadError } : {}),
      document: active.document,
    };
  }

  /** Replaces the whole rule set. */
  @Put()
  @ApiBody({ type: RoutingRulesDocumentDto })
  @RulesDocs.replaceAll
  replaceAll(
    @Body(ruleSet) document: Record<string, unknown>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.apply(() => document, ifMatch, res);
  }

  /** Tries a call against the live rules (or the `rules` given) and explains every step. */
  @Post('evaluate')
  @HttpCode(HttpStatus.OK)
  @RulesDocs.evaluate
  async evaluate(@Body(strict) body: EvaluateRequestDto) {
    const set = body.rules ? await this.compileOr400(body.rules) : this.rules.current.set;
    const surfaces = body.surfaces ?? ['realtime'];
    const facts = deriveCallFacts(
      body.call_id ?? (surfaces[0] === 'live' ? 'live_dry_run' : 'rtc_dry_run'),
      body.sip_headers,
      set.defaultCountry,
      { surfaces, mediaSecurity: body.sip_media_security, twinMayCome: false },
    );
    const decision = set.decide(facts, body.at ? new Date(body.at) : new Date(), true);
    // As the service carries it out once every announcement it lists has arrived.
    const settled = settleOnSurface(set, facts, decision, surfaces);
    return {
      ...settled.decision,
      surface: settled.surface,
      // As it would be sent: an accept with the declarations of the tools its rule offers.
      request:
        this.sidebands?.prepareAccept(settled.surface, settled.request, settled.decision) ??
        settled.request,
      warnings: this.warningsOf(set, body.rules ?? this.rules.current.document),
    };
  }

  @Put('order')
  @RulesDocs.reorder
  reorder(
    @Body(strict) body: ReorderRulesDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.apply(
      (current) => {
        const byId = new Map(current.rules.map((rule) => [rule.id, rule]));
        const ids = new Set(body.ids);
        if (
          ids.size !== body.ids.length ||
          ids.size !== byId.size ||
          body.ids.some((id) => !byId.has(id))
        ) {
          throw new BadRequestException(
            `ids must list every rule id exactly once: ${[...byId.keys()].join(', ')}`,
          );
        }
        return { ...current, rules: body.ids.map((id) => byId.get(id)!) };
      },
      ifMatch,
      res,
    );
  }

  @Get(':id')
  @RulesDocs.get
  get(@Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    res.setHeader('ETag', `"${this.rules.current.set.version}"`);
    return this.findOr404(this.rules.current.document.rules, id);
  }

  /** Adds a rule at the end of the written order (its `priority` still applies). */
  @Post()
  @ApiBody({ type: RoutingRuleDto })
  @RulesDocs.create
  create(
    @Body(oneRule) rule: Record<string, unknown>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    res.status(HttpStatus.CREATED);
    return this.apply(
      (current) => {
        if (current.rules.some((existing) => existing.id === rule.id)) {
          throw new HttpException(
            `a rule with id ${String(rule.id)} exists; PUT /rules/${String(rule.id)} replaces it`,
            HttpStatus.CONFLICT,
          );
        }
        return { ...current, rules: [...current.rules, rule] };
      },
      ifMatch,
      res,
    );
  }

  @Put(':id')
  @ApiBody({ type: RoutingRuleDto })
  @RulesDocs.replace
  replace(
    @Param('id') id: string,
    @Body(oneRule) rule: Record<string, unknown>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.apply(
      (current) => {
        this.findOr404(current.rules, id);
        if (rule.id !== undefined && rule.id !== id)
          throw new BadRequestException(`the body's id must be ${id}`);
        return {
          ...current,
          rules: current.rules.map((existing) => (existing.id === id ? { ...rule, id } : existing)),
        };
      },
      ifMatch,
      res,
    );
  }

  @Delete(':id')
  @RulesDocs.remove
  remove(
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.apply(
      (current) => {
        this.findOr404(current.rules, id);
        return { ...current, rules: current.rules.filter((existing) => existing.id !== id) };
      },
      ifMatch,
      res,
    );
  }

  private async apply(
    edit: (current: ActiveRules['document']) => unknown,
    ifMatch: string | undefined,
    res: Response,
  ) {
    if (!ifMatch) {
      throw new HttpException(
        'If-Match is required: send the ETag of GET /rules, so that an edit made meanwhile is not overwritten',
        HttpStatus.PRECONDITION_REQUIRED,
      );
    }
    const version = ifMatch.replace(/^W\//, '').replace(/"/g, '');
    const current = await this.rules.currentFor(version);
    const document = edit(structuredClone(current.document));
    try {
      const active = await this.rules.replace(document, version);
      res.setHeader('ETag', `"${active.set.version}"`);
      return {
        version: active.set.version,
        warnings: this.warningsOf(active.set, active.document),
        document: active.document,
      };
    } catch (error) {
      if (error instanceof RulesValidationError)
        throw new BadRequestException({ message: error.message, problems: error.problems });
      throw error;
    }
  }

  private async compileOr400(document: unknown) {
    try {
      return await compileRuleSetInSlices(document);
    } catch (error) {
      if (error instanceof RulesValidationError)
        throw new BadRequestException({ message: error.message, problems: error.problems });
      throw error;
    }
  }

  private findOr404(rules: Record<string, unknown>[], id: string) {
    const rule = rules.find((candidate) => candidate.id === id);
    if (!rule) throw new NotFoundException(`no rule with id ${id}`);
    return rule;
  }
}
