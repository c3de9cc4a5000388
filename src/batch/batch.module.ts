import { Module } from '@nestjs/common';
import { eventLogHandler } from '../common/event-log-handler';

/** The batch domain: its event DTOs live in `dto/`; every event is logged. */
@Module({ providers: [eventLogHandler('Batch', 'batch.*', 'batch')] })
export class BatchModule {}
