import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus metric Switchboard exports, on a registry of its own (so that two apps in one
 * process, as in tests, do not share counters). Modules record into it when it is present.
 */
@Injectable()
export class SwitchboardMetrics {
  readonly registry = new Registry();

  readonly webhooksReceived = new Counter({
    name: 'switchboard_webhooks_received_total',
    help: 'Webhook deliveries by event type and outcome (accepted, duplicate, refused, invalid).',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly verificationFailures = new Counter({
    name: 'switchboard_webhook_verification_failures_total',
    help: 'Deliveries refused by signature verification, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly handlerDuration = new Histogram({
    name: 'switchboard_handler_duration_seconds',
    help: 'Time one handler attempt took, by handler and outcome.',
    labelNames: ['handler', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });

  readonly handlerFailures = new Counter({
    name: 'switchboard_handler_failures_total',
    help: 'Failed handler attempts, by handler.',
    labelNames: ['handler'] as const,
    registers: [this.registry],
  });

  readonly routingDecisions = new Counter({
    name: 'switchboard_routing_decisions_total',
    help: 'Calls routed, by rule (or default / on_error) and action.',
    labelNames: ['rule', 'action'] as const,
    registers: [this.registry],
  });

  readonly callControlDuration = new Histogram({
    name: 'switchboard_call_control_duration_seconds',
    help: 'OpenAI call-control requests (all attempts), by action and outcome.',
    labelNames: ['action', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  });

  readonly callControlErrors = new Counter({
    name: 'switchboard_call_control_errors_total',
    help: 'Call-control requests that failed after their retries (404 caller_gone excluded), by action.',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  readonly streamClients = new Gauge({
    name: 'switchboard_stream_clients',
    help: 'Connected WebSocket stream clients.',
    registers: [this.registry],
  });

  readonly streamSlowClientsDropped = new Counter({
    name: 'switchboard_stream_slow_clients_dropped_total',
    help: 'Stream clients closed for not reading (4008).',
    registers: [this.registry],
  });

  constructor() {
    // Process metrics, event-loop lag among them (nodejs_eventloop_lag_seconds).
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_' });
  }
}
