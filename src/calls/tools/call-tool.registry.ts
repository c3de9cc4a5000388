import { Type } from '@nestjs/common';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { CallTool, CallToolMetadata } from './call-tool.decorator';
import { CallToolDefinitionError } from './call-tool-error';
import type { CallToolContext } from './call-tool-runner';
import { JsonSchema, toolParametersOf } from './tool-schema';

export interface RegisteredTool {
  name: string;
  /** `ClassName.methodName`, for messages. */
  key: string;
  description: string;
  timeoutMs?: number;
  /** The arguments' class; undefined for a method that takes none. */
  dto?: Type<object>;
  parameters: JsonSchema;
  invoke(args: object, ctx: CallToolContext): unknown;
}

/** Types that say nothing about the arguments (an interface or a primitive compiles to these). */
const NOT_A_DTO = new Set<unknown>([Object, String, Number, Boolean, Array, Function, Promise]);

/**
 * Finds every `@CallTool` method in the application at start-up, the built-in tools and the
 * users' alike, and derives each one's JSON schema once. Two tools of one name, or arguments
 * whose schema cannot be derived, stop the start with one line that names them.
 */
@Injectable()
export class CallToolRegistry implements OnModuleInit {
  private readonly logger = new Logger('CallTools');
  private readonly tools = new Map<string, RegisteredTool>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    this.tools.clear();
    const seen = new Set<object>();
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) this.register(wrapper, seen);
    this.logger.log(
      `${this.tools.size} call tool(s) registered${this.tools.size ? `: ${this.names().join(', ')}` : ''}`,
    );
  }

  get(name: string): RegisteredTool | undefined {
    return this.tools.get(name);
  }

  names(): string[] {
    return [...this.tools.keys()];
  }

  private register(wrapper: InstanceWrapper, seen: Set<object>): void {
    const { instance } = wrapper;
    // Alias providers (useExisting) point at an instance already scanned: skip, or it counts twice.
    if (!instance || typeof instance !== 'object' || seen.has(instance) || wrapper.isAlias) return;
    seen.add(instance);
    const prototype = Object.getPrototypeOf(instance) as object;
    for (const method of this.scanner.getAllMethodNames(prototype)) {
      const metadata = this.discovery.getMetadataByDecorator(
        CallTool.discoverable,
        wrapper,
        method,
      ) as CallToolMetadata | undefined;
      if (!metadata) continue;
      const key = `${instance.constructor.name}.${method}`;
      if (!wrapper.isDependencyTreeStatic()) {
        this.logger.warn(`${key}: request-scoped providers cannot be call tools; skipped`);
        continue;
      }
      const existing = this.tools.get(metadata.name);
      if (existing) {
        throw new CallToolDefinitionError(
          `two @CallTool handlers are named "${metadata.name}" (${[existing.key, key].sort().join(' and ')}); rename one`,
        );
      }
      const fn = (instance as Record<string, (...args: unknown[]) => unknown>)[method];
      const dto = argumentsClass(prototype, method, fn, metadata, key);
      let parameters: JsonSchema;
      try {
        parameters = toolParametersOf(dto);
      } catch (error) {
        throw new CallToolDefinitionError(
          `@CallTool('${metadata.name}') on ${key}: ${(error as Error).message}`,
        );
      }
      this.tools.set(metadata.name, {
        name: metadata.name,
        key,
        description: metadata.description ?? '',
        timeoutMs: metadata.timeoutMs,
        dto,
        parameters,
        invoke: (args, ctx) => fn.call(instance, args, ctx),
      });
    }
  }
}

/** The DTO: `{ args }`, else the first parameter's type; none for a method without parameters. */
function argumentsClass(
  prototype: object,
  method: string,
  fn: (...args: unknown[]) => unknown,
  metadata: CallToolMetadata,
  key: string,
): Type<object> | undefined {
  if (metadata.args) return metadata.args;
  const types = Reflect.getMetadata('design:paramtypes', prototype, method) as
    unknown[] | undefined;
  const first = types?.[0];
  if (first === undefined && fn.length === 0) return undefined;
  if (typeof first === 'function' && !NOT_A_DTO.has(first)) return first as Type<object>;
  const seen =
    first === undefined ? 'unknown (no type metadata)' : (first as { name: string }).name;
  throw new CallToolDefinitionError(
    `@CallTool('${metadata.name}') on ${key}: the first parameter's type (${seen}) is not a class, so its arguments cannot be validated nor described; type it as a class-validator DTO class, or pass { args: TheDto }`,
  );
}
