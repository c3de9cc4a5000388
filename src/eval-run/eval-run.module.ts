import { Module } from '@nestjs/common';
import { eventLogHandler } from '../common/event-log-handler';

/** The eval run domain: its event DTOs live in `dto/`; every event is logged. */
@Module({ providers: [eventLogHandler('EvalRun', 'eval.run.*', 'eval run')] })
export class EvalRunModule {}
