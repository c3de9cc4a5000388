import { Module } from '@nestjs/common';
import { eventLogHandler } from '../common/event-log-handler';

/**
 * The fine-tuning job domain: its event DTOs live in `dto/`; every event is logged at debug level
 * (the webhook line at info already names each delivery).
 */
@Module({ providers: [eventLogHandler('FineTuning', 'fine_tuning.*', 'fine-tuning job')] })
export class FineTuningModule {}
