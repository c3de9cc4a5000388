import { Module } from '@nestjs/common';
import { ConfigurableEventStreamModule } from './event-stream.module-definition';
import { EventStreamServer } from './event-stream.server';

/**
 * The WebSocket event stream at `/events` on the app's own HTTP port. Needs `WebhooksModule`
 * (its store) in the same app. Built on `ws` directly rather than a Nest gateway: the token is
 * checked before the upgrade completes (guards do not run on a gateway's connection), and the
 * catch-up seam needs the store's commit order, not a message router.
 */
@Module({ providers: [EventStreamServer], exports: [EventStreamServer] })
export class EventStreamModule extends ConfigurableEventStreamModule {}
