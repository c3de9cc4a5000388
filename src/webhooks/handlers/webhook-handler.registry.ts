import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import {
  matchesPattern,
  OnWebhookEvent,
  WebhookHandlerMetadata,
} from './on-webhook-event.decorator';
import { WebhookEventContext } from './webhook-event-context';
import { closestKnownPattern, matchesKnownType } from './webhook-event-pattern';

export interface RegisteredHandler {
  /** Stable name recorded in the store: `ClassName.methodName`. */
  key: string;
  patterns: string[];
  priority: number;
  /** Runs before every other handler of the event, whatever their priority. */
  first: boolean;
  maxAttempts?: number;
  invoke(event: object, context: WebhookEventContext): Promise<unknown>;
}

/**
 * Finds every `@OnWebhookEvent` method in the application at start-up. Users' modules, the
 * calls module and the generic module are all found the same way; there is no other path.
 */
@Injectable()
export class WebhookHandlerRegistry implements OnModuleInit {
  private readonly logger = new Logger(WebhookHandlerRegistry.name);
  private handlers: RegisteredHandler[] = [];
  private readonly byType = new Map<string, RegisteredHandler[]>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    const seen = new Set<object>();
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) this.register(wrapper, seen);
    this.handlers.sort(
      (a, b) =>
        Number(b.first) - Number(a.first) || a.priority - b.priority || a.key.localeCompare(b.key),
    );
    this.byType.clear();
    this.logger.log(`${this.handlers.length} webhook handler(s) registered`);
  }

  /** Handlers for a type, in run order (the first stage, priority, then name). Cached per type. */
  handlersFor(type: string): RegisteredHandler[] {
    let found = this.byType.get(type);
    if (!found) {
      found = this.handlers.filter((h) => h.patterns.some((p) => matchesPattern(p, type)));
      this.byType.set(type, found);
    }
    return found;
  }

  byKey(key: string): RegisteredHandler | undefined {
    return this.handlers.find((h) => h.key === key);
  }

  all(): readonly RegisteredHandler[] {
    return this.handlers;
  }

  /**
   * A typo in a pattern compiles in plain JavaScript, or through `unknownType()`, and would
   * otherwise wait silently for an event that never comes.
   */
  private warnIfUnknown(key: string, pattern: string): void {
    if (matchesKnownType(pattern)) return;
    const closest = closestKnownPattern(pattern);
    this.logger.warn(
      `${key}: "${pattern}" matches no event type Switchboard knows${closest ? ` (did you mean "${closest}"?)` : ''}; it runs only if an event of such a type arrives`,
    );
  }

  private register(wrapper: InstanceWrapper, seen: Set<object>): void {
    const { instance } = wrapper;
    // Alias providers (useExisting) point at an instance already scanned: skip, or it runs twice.
    if (!instance || typeof instance !== 'object' || seen.has(instance) || wrapper.isAlias) return;
    seen.add(instance);
    const prototype = Object.getPrototypeOf(instance) as object;
    for (const method of this.scanner.getAllMethodNames(prototype)) {
      const metadata = this.discovery.getMetadataByDecorator(
        OnWebhookEvent.discoverable,
        wrapper,
        method,
      ) as WebhookHandlerMetadata | undefined;
      if (!metadata) continue;
      if (!wrapper.isDependencyTreeStatic()) {
        this.logger.warn(
          `${wrapper.name}.${method}: request-scoped providers cannot handle webhooks; skipped`,
        );
        continue;
      }
      const fn = (instance as Record<string, (...args: unknown[]) => unknown>)[method];
      const key = `${instance.constructor.name}.${method}`;
      if (this.handlers.some((h) => h.key === key)) {
        throw new Error(`two webhook handlers share the name ${key}; rename one`);
      }
      for (const pattern of metadata.patterns) this.warnIfUnknown(key, pattern);
      this.handlers.push({
        key,
        patterns: metadata.patterns,
        priority: metadata.priority ?? 0,
        first: metadata.first === true,
        maxAttempts: metadata.maxAttempts,
        invoke: async (event, context) => fn.call(instance, event, context),
      });
    }
  }
}
