// The public API of Switchboard as a Nest library.
export { WebhooksModule } from './webhooks/webhooks.module';
export { WEBHOOKS_MODULE_OPTIONS } from './webhooks/webhooks.module-definition';
export type { WebhooksModuleOptions } from './webhooks/webhooks.options';
export { OnWebhookEvent, matchesPattern } from './webhooks/handlers/on-webhook-event.decorator';
export type {
  WebhookHandlerMethod,
  WebhookHandlerOptions,
} from './webhooks/handlers/on-webhook-event.decorator';
export { KNOWN_EVENT_TYPES, unknownType } from './webhooks/handlers/webhook-event-pattern';
export type {
  KnownEventType,
  KnownWildcardPattern,
  UnknownEventPattern,
  WebhookEventFor,
  WebhookEventPattern,
} from './webhooks/handlers/webhook-event-pattern';
export type { WebhookEventContext } from './webhooks/handlers/webhook-event-context';
export { SwitchboardEventPublisher } from './webhooks/switchboard-event.publisher';
export type { SwitchboardEvent } from './webhooks/switchboard-event.publisher';
export { EVENT_STORE } from './webhooks/store/event-store';
export type * from './webhooks/store/event-store';
export { SqliteEventStore } from './webhooks/store/sqlite-event-store';
export { StoreUnavailableError } from './common/store/store-health';
export { WebhookSignatureVerifier } from './webhooks/signature/webhook-signature.verifier';
export { decodeWebhookSecret, decodeWebhookSecrets } from './webhooks/signature/webhook-secret';
export { parseWebhookEvent } from './events/webhook-event.parser';
export * from './events/webhook-event-types';
export { UnknownWebhookEventDto } from './events/unknown-webhook-event.dto';
export * from './common/dto/webhook-event.dto';
export * from './batch/dto/batch-events.dto';
export * from './eval-run/dto/eval-run-events.dto';
export * from './fine-tuning/dto/fine-tuning-events.dto';
export * from './response/dto/response-events.dto';
export * from './realtime-call/dto/realtime-call-incoming.dto';
export * from './live-call/dto/live-call-events.dto';
export * from './safety/dto/safety-events.dto';
export * from './agent-session/dto/agent-session-events.dto';
export { SIP_HEADER_LIMITS, boundSipHeaders } from './realtime-call/sip-header-limits';
export type { SipHeadersCut, SipHeaderDropReason } from './realtime-call/sip-header-limits';
export type { DeliveryFacts, ReplacedField } from './events/event-intake';
export { CallsModule } from './calls/calls.module';
export type { CallsModuleOptions } from './calls/calls.options';
export type { CallControlOptions } from './calls/control/call-control.client';
export { CallsService } from './calls/calls.service';
export { CALL_EVENTS, CALL_EVENT_TYPES } from './events/call-event-types';
export type { CallEvent, CallEventData, CallEventType } from './events/call-event-types';
export { CallTool } from './calls/tools/call-tool.decorator';
export type { CallToolOptions, CallToolMethod } from './calls/tools/call-tool.decorator';
export { ToolParam } from './calls/tools/tool-param.decorator';
export type { ToolParamOptions } from './calls/tools/tool-param.decorator';
export { CallToolError, CallToolDefinitionError } from './calls/tools/call-tool-error';
export { CallToolsService } from './calls/tools/call-tools.service';
export { DEFAULT_TOOL_TIMEOUT_MS } from './calls/tools/tool-timeout';
export { CALL_TOOL_RUNNER } from './calls/tools/call-tool-runner';
export type {
  CallToolContext,
  CallToolDeclaration,
  CallToolInvocation,
  CallToolRunContext,
  CallToolRunner,
  ToolRunOutcome,
  ToolRunResult,
} from './calls/tools/call-tool-runner';
export { toolParametersOf } from './calls/tools/tool-schema';
export type { JsonSchema } from './calls/tools/tool-schema';
export { TransferCallArgs, EndCallArgs } from './calls/tools/builtin/call-control-tools.dto';
export { RulesService } from './calls/rules/rules.service';
// The call after it is answered: its sideband, and the tool runner it calls.
export { SidebandService } from './calls/sideband/sideband.service';
export type { SidebandOptions } from './calls/sideband/sideband.options';
export type { CallBehaviour } from './calls/rules/call-behaviour';
export { compileRuleSet, RulesValidationError } from './calls/rules/rule-set.compiler';
export type { Decision, Explanation } from './calls/rules/rule-set';
export type { AcceptSessions, RenderedAction } from './calls/rules/route-action';
export { deriveCallFacts } from './calls/sip/call-facts';
export { CALL_STORE } from './calls/store/call-store';
export type {
  CallEnding,
  CallEndReason,
  CallRecord,
  CallRecordPatch,
  SidebandState,
  ToolCallRecord,
  TranscriptTurn,
  TransferRecord,
  CallStore,
  ClaimResult,
  SurfaceArrival,
} from './calls/store/call-store';
export { SURFACE_NAMES } from './calls/surfaces/surface-name';
export type { SurfaceName } from './calls/surfaces/surface-name';
export type { CallSurface, ControlRequest } from './calls/surfaces/call-surface';
// For a call store of your own: the pairing of twins, to run inside its transaction.
export { matchAnnouncement } from './calls/twins/twin-matcher';
export type { Announcement, TwinIndex, TwinMatch } from './calls/twins/twin-matcher';
export { EventStreamModule } from './stream/event-stream.module';
export type { EventStreamOptions } from './stream/event-stream.options';
export { MetricsModule } from './metrics/metrics.module';
export { HealthModule } from './health/health.module';
export { ConsoleModule } from './console/console.module';
export type { ConsoleModuleOptions } from './console/console.module';
