import { Injectable, Logger, Module } from '@nestjs/common';
import { OnWebhookEvent } from '../webhooks/handlers/on-webhook-event.decorator';
import { RealtimeCallIncomingEvent } from './dto/realtime-call-incoming.dto';

/** Logs each ringing call. Routing rules and call control build on this module. */
@Injectable()
export class IncomingCallLogHandler {
  private readonly logger = new Logger('RealtimeCall');

  @OnWebhookEvent('realtime.call.incoming')
  log(event: RealtimeCallIncomingEvent): void {
    this.logger.log(
      `incoming call ${event.data.call_id} with ${event.data.sip_headers.length} SIP header(s)`,
    );
  }
}

@Module({ providers: [IncomingCallLogHandler] })
export class RealtimeCallModule {}
