import { EventType } from '../../common/dto/event-type.decorator';
import { ObjectReferenceEventDto } from '../../common/dto/webhook-event.dto';

/**
 * `agent.session.created`: an Agents API session was created; `data.id` is the session. Fields
 * beside `id` (the environment, say) stay in the stored payload (`GET /events/:id`).
 */
export class AgentSessionCreatedEvent extends ObjectReferenceEventDto {
  @EventType('agent.session.created')
  type!: 'agent.session.created';
}

/**
 * `agent.session.action_required`: the session needs a function result, an environment
 * connection or an approval; read the session's `required_actions` for what exactly.
 */
export class AgentSessionActionRequiredEvent extends ObjectReferenceEventDto {
  @EventType('agent.session.action_required')
  type!: 'agent.session.action_required';
}

/** `agent.session.in_progress`: the session started processing a turn. */
export class AgentSessionInProgressEvent extends ObjectReferenceEventDto {
  @EventType('agent.session.in_progress')
  type!: 'agent.session.in_progress';
}

/** `agent.session.idle`: the session is idle and ready for more input. */
export class AgentSessionIdleEvent extends ObjectReferenceEventDto {
  @EventType('agent.session.idle')
  type!: 'agent.session.idle';
}

/** `agent.session.failed`: the session entered a failed state. */
export class AgentSessionFailedEvent extends ObjectReferenceEventDto {
  @EventType('agent.session.failed')
  type!: 'agent.session.failed';
}

export const AGENT_SESSION_EVENTS = {
  'agent.session.action_required': AgentSessionActionRequiredEvent,
  'agent.session.created': AgentSessionCreatedEvent,
  'agent.session.failed': AgentSessionFailedEvent,
  'agent.session.idle': AgentSessionIdleEvent,
  'agent.session.in_progress': AgentSessionInProgressEvent,
} as const;
