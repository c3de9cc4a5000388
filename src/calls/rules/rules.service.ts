import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
  PreconditionFailedException,
} from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CALLS_MODULE_OPTIONS } from '../calls.module-definition';
import { CallsModuleOptions } from '../calls.options';
import { CALL_STORE, CallStore } from '../store/call-store';
import { CompiledRuleSet } from './rule-set';
import { compileRuleSetInSlices, RulesValidationError, versionOf } from './rule-set.compiler';
import { locateProblems, parseRulesText, RulesFileError } from './rules-file';
import { RulesFileWatcher, watchRulesFile } from './rules-file-watcher';

export interface ActiveRules {
  set: CompiledRuleSet;
  document: { rules: Record<string, unknown>[] } & Record<string, unknown>;
  source: 'file' | 'api';
  loaded_at: string;
}

const EMPTY_DOCUMENT = { version: 1, rules: [] };
/** A reload of another instance's save that failed is tried again: after this, doubling. */
const RELOAD_RETRY_MS = 500;
const MAX_RELOAD_RETRY_MS = 30_000;

/**
 * The live rule set. A new version is compiled whole and swapped in with one assignment, so a
 * call in flight keeps the version it started with. One source of truth: the rules file when
 * configured (hot reloaded; a broken edit is refused and the last good rules stay), else the
 * store, edited through the REST API with optimistic concurrency (ETag / If-Match).
 */
@Injectable()
export class RulesService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Rules');
  private active!: ActiveRules;
  private watcher?: RulesFileWatcher;
  private stopWatching?: () => void;
  private retryTimer?: NodeJS.Timeout;
  private retryMs = RELOAD_RETRY_MS;
  private destroyed = false;
  /** File reloads run one after another: each compiles in slices, awaiting between them. */
  private reloads: Promise<void> = Promise.resolve();
  /**
   * The bytes of the rules file as last judged, good or refused. The directory is watched, so
   * events about other files in it (a log file, the store) arrive too: unchanged bytes are not
   * judged again, or a refusal logged into that directory would be refused again, forever.
   */
  private judgedBytes?: Buffer;
  /** The last refused file edit, shown by `GET /rules` until a good edit replaces it. */
  lastReloadError?: string;

  constructor(
    @Inject(CALLS_MODULE_OPTIONS) private readonly options: CallsModuleOptions,
    @Inject(CALL_STORE) private readonly store: CallStore,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.options.rulesFile) {
      const file = resolve(this.options.rulesFile);
      const bytes = this.readFile(file);
      this.swap(await this.compileFile(file, bytes), 'file');
      this.judgedBytes = bytes;
      this.watcher = watchRulesFile(file, () => {
        this.reloads = this.reloads
          .then(() => this.reload(file))
          .catch((error: Error) => this.logger.error(`rules file reload failed: ${error.message}`));
      });
      return;
    }
    // Another instance's save reloads the rules here (a store shared by several instances).
    this.stopWatching = this.store.watchRuleSet?.(() => void this.refresh());
    const stored = await this.store.loadRuleSet();
    if (stored) {
      const set = await compileRuleSetInSlices(stored.document);
      this.swap({ set, document: stored.document }, 'api');
      return;
    }
    const seed = this.options.seedRulesFile
      ? await this.loadFile(resolve(this.options.seedRulesFile))
      : undefined;
    const document = seed?.document ?? EMPTY_DOCUMENT;
    if (!(await this.store.saveRuleSet(document, versionOf(document), undefined))) {
      // Another instance, starting at the same moment, seeded first: its rules are the rules.
      return this.onStoredRules();
    }
    this.swap(seed ?? { set: await compileRuleSetInSlices(document), document }, 'api');
    if (seed)
      this.logger.log(
        `rules seeded from ${this.options.seedRulesFile}; manage them with the REST API`,
      );
  }

  private async onStoredRules(): Promise<void> {
    const stored = await this.store.loadRuleSet();
    if (!stored) throw new Error('the stored rule set vanished while starting');
    this.swap(
      { set: await compileRuleSetInSlices(stored.document), document: stored.document },
      'api',
    );
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    clearTimeout(this.retryTimer);
    this.stopWatching?.();
    this.watcher?.close();
    await this.reloads;
  }

  /**
   * Loads the stored rule set when it is not the live one (another instance saved it) and
   * swaps it in whole. Refreshes run one after another; one whose compile was overtaken by a
   * newer swap (a save made here meanwhile) does not swap the older rules back in.
   */
  refresh(): Promise<void> {
    if (this.managedByFile) return Promise.resolve();
    this.reloads = this.reloads.then(async () => {
      try {
        await this.reloadStored();
        this.retryMs = RELOAD_RETRY_MS;
        clearTimeout(this.retryTimer);
      } catch (error) {
        // The notice is not sent again: without a retry, this instance would keep the old
        // rules until the next save anywhere. Tried again, backing off, until it succeeds.
        const retryMs = this.retryMs;
        this.retryMs = Math.min(MAX_RELOAD_RETRY_MS, retryMs * 2);
        clearTimeout(this.retryTimer);
        if (!this.destroyed) {
          this.retryTimer = setTimeout(() => void this.refresh(), retryMs);
          this.retryTimer.unref();
        }
        this.logger.error(
          `reloading the rules saved by another instance failed; version ${this.active?.set.version} stays live, trying again in ${retryMs} ms: ${(error as Error).message}`,
        );
      }
    });
    return this.reloads;
  }

  private async reloadStored(): Promise<void> {
    for (let round = 0; round < 3; round++) {
      const before = this.active;
      const stored = await this.store.loadRuleSet();
      if (!stored || !before || stored.version === before.set.version) return;
      const set = await compileRuleSetInSlices(stored.document);
      if (this.active !== before) continue;
      this.swap({ set, document: stored.document }, 'api');
      return;
    }
  }

  /**
   * The live rules an edit made against version `ifMatch` starts from: when that is not the
   * version live here, another instance may have saved it a moment ago, before its notice
   * arrived, so the store is read first.
   */
  async currentFor(ifMatch: string): Promise<ActiveRules> {
    if (ifMatch !== this.active.set.version && this.store.watchRuleSet) await this.refresh();
    return this.active;
  }

  get current(): ActiveRules {
    return this.active;
  }

  get managedByFile(): boolean {
    return this.options.rulesFile !== undefined;
  }

  /**
   * Replaces the API-managed rule set if `ifMatch` is the current version. Throws
   * `RulesValidationError` for a bad set, 409 when a file owns the rules, 412 on a lost race.
   */
  async replace(document: unknown, ifMatch: string): Promise<ActiveRules> {
    if (this.managedByFile) {
      throw new ConflictException(
        `rules are managed by the file ${this.options.rulesFile}; edit the file instead`,
      );
    }
    const set = await compileRuleSetInSlices(document);
    if (ifMatch !== this.active.set.version) {
      throw new PreconditionFailedException(
        `the rules changed since version ${ifMatch}; current version is ${this.active.set.version}: reload and reapply your edit`,
      );
    }
    const saved = await this.store.saveRuleSet(document, set.version, ifMatch);
    if (!saved) {
      throw new PreconditionFailedException(
        `the rules changed since version ${ifMatch}: reload and reapply your edit`,
      );
    }
    this.swap({ set, document }, 'api');
    return this.active;
  }

  private loadFile(file: string): Promise<{ set: CompiledRuleSet; document: unknown }> {
    return this.compileFile(file, this.readFile(file));
  }

  private readFile(file: string): Buffer {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new RulesFileError(file, [
        { path: '', message: `cannot read: ${(error as Error).message}` },
      ]);
    }
  }

  /** Compiles in slices, so that start-up and reloads alike leave room for calls. */
  private async compileFile(
    file: string,
    bytes: Buffer,
  ): Promise<{ set: CompiledRuleSet; document: unknown }> {
    const parsed = parseRulesText(bytes.toString('utf8'), file);
    try {
      return { set: await compileRuleSetInSlices(parsed.document), document: parsed.document };
    } catch (error) {
      if (error instanceof RulesValidationError) throw locateProblems(error, parsed, file);
      throw error;
    }
  }

  private swap(
    next: { set: CompiledRuleSet; document: unknown },
    source: ActiveRules['source'],
  ): void {
    this.active = {
      set: next.set,
      document: next.document as ActiveRules['document'],
      source,
      loaded_at: new Date().toISOString(),
    };
    this.logger.log(
      `rules version ${next.set.version} live: ${next.set.rules.length} rule(s) from the ${source}`,
    );
    for (const warning of next.set.warnings) this.logger.warn(warning);
  }

  /**
   * Rereads the file; a broken edit is refused and the last good rules stay live. Any good
   * content clears the refusal, also when it is the live version again (a reverted edit).
   * Each refusal is logged once, and its clearing once.
   */
  async reload(file: string): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = this.readFile(file);
    } catch (error) {
      this.judgedBytes = undefined;
      this.refuse((error as Error).message);
      return;
    }
    if (this.judgedBytes?.equals(bytes)) return;
    this.judgedBytes = bytes;
    let next: { set: CompiledRuleSet; document: unknown };
    try {
      next = await this.compileFile(file, bytes);
    } catch (error) {
      this.refuse((error as Error).message);
      return;
    }
    if (this.lastReloadError !== undefined) {
      this.lastReloadError = undefined;
      this.logger.log(`rules file ${file} is valid again: the refused edit is cleared`);
    }
    if (next.set.version !== this.active.set.version) this.swap(next, 'file');
  }

  private refuse(message: string): void {
    if (message === this.lastReloadError) return;
    this.lastReloadError = message;
    this.logger.error(
      `rules file edit refused; version ${this.active.set.version} stays live:\n${message}`,
    );
  }
}
