import { Module } from '@nestjs/common';
import { eventLogHandler } from '../common/event-log-handler';

/**
 * The Agents API session domain: its event DTOs live in `dto/`; every event is logged at debug
 * level (the webhook line at info already names each delivery).
 */
@Module({ providers: [eventLogHandler('AgentSession', 'agent.session.*', 'session')] })
export class AgentSessionModule {}
