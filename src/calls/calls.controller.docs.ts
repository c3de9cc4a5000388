import { ApiOperationDocs } from '../docs/api-operation.decorator';
import {
  CallActionDoneDto,
  CallActionDryRunDto,
  CallActionFailedDto,
  CallListDto,
  CallRecordDto,
} from './dto/call-responses.dto';

const operatorAction = (summary: string, extraErrors: Record<number, string> = {}) =>
  ApiOperationDocs({
    summary,
    description:
      'Sent through OpenAI call control; recorded in the call record and published as a lifecycle event.',
    admin: true,
    ok: {
      200: { description: 'OpenAI carried it out', type: CallActionDoneDto },
      202: {
        description: 'dry run (no OPENAI_API_KEY): recorded and published, not sent',
        type: CallActionDryRunDto,
      },
    },
    errors: {
      ...extraErrors,
      404: 'no call with that id',
      502: {
        description: 'OpenAI refused it, or did not answer in time',
        type: CallActionFailedDto,
      },
    },
  });

/** The OpenAPI description of each operation of `CallsController`. */
export const CallsDocs = {
  list: ApiOperationDocs({
    summary: 'Call records, newest first, a page at a time',
    admin: true,
    ok: { 200: { description: 'a page of calls', type: CallListDto } },
    errors: { 400: 'a `status`, `cursor` or `limit` that is not valid (the message names it)' },
  }),
  get: ApiOperationDocs({
    summary: "One call's record: SIP headers, decision and why, OpenAI's answer, timings",
    admin: true,
    ok: { 200: { description: 'the call record', type: CallRecordDto } },
    errors: { 404: 'no call with that id' },
  }),
  hangup: operatorAction('Hang up a live call'),
  message: ApiOperationDocs({
    summary: 'Put an operator message into the conversation of a live call (through its sideband)',
    description:
      'Realtime: a system message item and a response; Live: session.instructions.append. Recorded as an operator action (`message`) and, when the rule keeps transcripts, as an `operator` turn.',
    admin: true,
    ok: {
      200: { description: "sent on the call's sideband", type: CallActionDoneDto },
      202: {
        description: 'dry run (no OPENAI_API_KEY): recorded, not sent',
        type: CallActionDryRunDto,
      },
    },
    errors: {
      400: 'text is missing, empty or longer than 4000 characters',
      404: 'no call with that id',
      409: 'the call has no open sideband on this instance (not answered, ended, or held by another instance)',
    },
  }),
  refer: operatorAction('Transfer a live call (SIP REFER) to a sip:, sips: or tel: URI', {
    400: 'target_uri is missing or not a sip:, sips: or tel: URI',
  }),
};
