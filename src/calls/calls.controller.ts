import {
  BadGatewayException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import type { Response } from 'express';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '../common/guards/admin-token.guard';
import { ADMIN_AUTH } from '../docs/api-docs';
import { CallsDocs } from './calls.controller.docs';
import { CallsService } from './calls.service';
import { ListCallsQuery, MessageRequestDto, ReferRequestDto } from './dto/call-requests.dto';
import { CALL_STORE, CallStore } from './store/call-store';

const strict = new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true });

/** Call records, and an operator's hand on live calls. Admin token required. */
@ApiTags('calls')
@ApiBearerAuth(ADMIN_AUTH)
@Controller('calls')
@UseGuards(AdminTokenGuard)
export class CallsController {
  constructor(
    private readonly calls: CallsService,
    @Inject(CALL_STORE) private readonly store: CallStore,
  ) {}

  @Get()
  @CallsDocs.list
  async list(@Query(strict) query: ListCallsQuery) {
    const { records, cursor } = await this.store.list({
      before: query.cursor,
      limit: query.limit ?? 50,
      status: query.status,
    });
    return { calls: records, next_cursor: cursor === undefined ? null : String(cursor) };
  }

  @Get(':callId')
  @CallsDocs.get
  async get(@Param('callId') callId: string) {
    const record = await this.store.get(callId);
    if (!record) throw new NotFoundException(`no call ${callId}`);
    return record;
  }

  @Post(':callId/hangup')
  @HttpCode(HttpStatus.OK)
  @CallsDocs.hangup
  hangup(@Param('callId') callId: string, @Res({ passthrough: true }) res: Response) {
    return this.act(callId, { type: 'hangup' }, res);
  }

  @Post(':callId/refer')
  @HttpCode(HttpStatus.OK)
  @CallsDocs.refer
  refer(
    @Param('callId') callId: string,
    @Body(strict) body: ReferRequestDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(callId, { type: 'refer', target_uri: body.target_uri }, res);
  }

  /** Text into the conversation of a call in progress (through its sideband). */
  @Post(':callId/message')
  @HttpCode(HttpStatus.OK)
  @CallsDocs.message
  async message(
    @Param('callId') callId: string,
    @Body(strict) body: MessageRequestDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    const result = await this.calls.operatorMessage(callId, body.text);
    if (!result) throw new NotFoundException(`no call ${callId}`);
    if ('refused' in result) throw new ConflictException(result.refused);
    if (!result.sent) {
      res.status(HttpStatus.ACCEPTED);
      return { call_id: callId, action: 'message', dry_run: true };
    }
    return { call_id: callId, action: 'message', sent: true };
  }

  private async act(
    callId: string,
    request: Parameters<CallsService['operatorAction']>[1],
    res: Response,
  ) {
    const result = await this.calls.operatorAction(callId, request);
    if (!result) throw new NotFoundException(`no call ${callId}`);
    if (!result.outcome) {
      res.status(HttpStatus.ACCEPTED);
      return { call_id: callId, action: request.type, dry_run: true };
    }
    if (!result.outcome.ok) {
      throw new BadGatewayException({
        message: `OpenAI refused the ${request.type}`,
        outcome: result.outcome,
      });
    }
    return { call_id: callId, action: request.type, outcome: result.outcome };
  }
}
