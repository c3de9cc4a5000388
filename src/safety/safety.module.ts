import { Module } from '@nestjs/common';
import { eventLogHandler } from '../common/event-log-handler';

/**
 * The safety domain (alerts and enforcement notices): its event DTOs live in `dto/`; every
 * event is logged at debug level (the webhook line at info already names each delivery).
 */
@Module({ providers: [eventLogHandler('Safety', 'safety.*', 'safety object')] })
export class SafetyModule {}
