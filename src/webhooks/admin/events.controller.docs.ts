import { ApiOperationDocs } from '../../docs/api-operation.decorator';
import { EventDetailDto, EventListDto, ReplayResultDto } from './dto/event-responses.dto';

const ID = 'the event id, its `webhook-id` or its sequence number';

/** The OpenAPI description of each operation of `EventsController`. */
export const EventsDocs = {
  list: ApiOperationDocs({
    summary: 'List stored events, oldest first, a page at a time',
    admin: true,
    ok: { 200: { description: 'a page of events', type: EventListDto } },
    errors: { 400: 'a `type`, `cursor` or `limit` that is not valid (the message names it)' },
  }),
  get: ApiOperationDocs({
    summary: 'One event: its payload and the status of each handler run',
    description: ID,
    admin: true,
    ok: { 200: { description: 'the event', type: EventDetailDto } },
    errors: { 404: 'no event with that id' },
  }),
  replay: ApiOperationDocs({
    summary: 'Hand an event to every handler that matches it now, again',
    description: `${ID}. The runs are set back to pending and the handlers run at once.`,
    admin: true,
    ok: { 202: { description: 'replay started', type: ReplayResultDto } },
    errors: {
      404: 'no event with that id, or its stored payload no longer parses',
      409: 'the event is still being handled (a run is pending or retrying)',
    },
  }),
};
