import {
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminTokenGuard } from '../../common/guards/admin-token.guard';
import { ADMIN_AUTH } from '../../docs/api-docs';
import { WebhookDispatcher } from '../handlers/webhook-dispatcher.service';
import { EVENT_STORE, EventStore, StoredEvent } from '../store/event-store';
import { EventDetailDto, EventSummaryDto } from './dto/event-responses.dto';
import { EventsDocs } from './events.controller.docs';
import { ListEventsQuery } from './list-events.query';

const DEFAULT_PAGE = 50;

/** What happened: stored events, their handlers' status, and replay. Admin token required. */
@ApiTags('events')
@ApiBearerAuth(ADMIN_AUTH)
@Controller('events')
@UseGuards(AdminTokenGuard)
export class EventsController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  @Get()
  @EventsDocs.list
  async list(
    @Query(new ValidationPipe({ transform: true, forbidNonWhitelisted: true, whitelist: true }))
    query: ListEventsQuery,
  ) {
    const limit = query.limit ?? DEFAULT_PAGE;
    const events = await this.store.list({ type: query.type, afterSeq: query.cursor, limit });
    return {
      events: events.map(summary),
      next_cursor: events.length === limit ? String(events[events.length - 1].seq) : null,
    };
  }

  @Get(':id')
  @EventsDocs.get
  async get(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const event = await this.findOr404(id);
    // The stored payload is JSON text already: embedded as it is, never parsed and serialised
    // again (as on the stream), so any body that was accepted can be shown, however deep.
    const detail: Omit<EventDetailDto, 'payload'> = { ...summary(event), handlers: event.runs };
    const fields = JSON.stringify(detail);
    res
      .status(200)
      .type('application/json')
      .send(`{"payload":${event.payload},${fields.slice(1)}`);
  }

  /** Hands the event to every handler that matches it now, as if it had just arrived. */
  @Post(':id/replay')
  @HttpCode(202)
  @EventsDocs.replay
  async replay(@Param('id') id: string) {
    const event = await this.findOr404(id);
    const busy = event.runs.filter((run) => run.status === 'pending' || run.status === 'retrying');
    if (busy.length > 0) {
      // Replaying now would run these handlers twice at once (a retry is still scheduled).
      throw new ConflictException(
        `event ${id} is still being handled (${busy.map((run) => `${run.handler}: ${run.status}`).join(', ')}); replay it once its runs are done or failed`,
      );
    }
    const dto = this.dispatcher.rehydrate(event);
    if (!dto)
      throw new NotFoundException(`event ${id} can no longer be parsed and cannot be replayed`);
    const handlers = this.dispatcher.handlerKeysFor(event.type);
    await this.store.resetRuns(event.seq, handlers);
    void this.dispatcher.dispatch(event, dto, handlers);
    return { replayed: true, seq: event.seq, handlers };
  }

  private async findOr404(id: string) {
    const event = await this.store.find(id);
    if (!event) throw new NotFoundException(`no event with id ${id}`);
    return event;
  }
}

function summary(event: StoredEvent): EventSummaryDto {
  return {
    seq: event.seq,
    id: event.eventId,
    webhook_id: event.webhookId,
    type: event.type,
    source: event.source,
    received_at: new Date(event.receivedAt).toISOString(),
  };
}
