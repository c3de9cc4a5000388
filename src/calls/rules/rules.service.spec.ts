import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallStore } from '../store/call-store';
import { SqliteCallStore } from '../store/sqlite-call-store';
import { RulesService } from './rules.service';

/**
 * A store of one's own shared by several instances (README: `watchRuleSet`), here one SQLite
 * file seen through one view per instance; a view's `failLoads` makes its next reads of the
 * rule set fail, as a database that does not answer for a moment.
 */
function sharedStore(base: SqliteCallStore) {
  const watchers = new Set<() => void>();
  const view = () => {
    const state = { failLoads: 0 };
    const store: CallStore = Object.assign(Object.create(base) as CallStore, {
      loadRuleSet: () =>
        state.failLoads-- > 0
          ? Promise.reject(new Error('the database did not answer'))
          : base.loadRuleSet(),
      saveRuleSet: async (document: unknown, version: string, expected: string | undefined) => {
        const saved = await base.saveRuleSet(document, version, expected);
        if (saved) for (const watcher of watchers) watcher();
        return saved;
      },
      watchRuleSet: (changed: () => void) => {
        watchers.add(changed);
        return () => watchers.delete(changed);
      },
    });
    return { store, state };
  };
  return view;
}

describe('RulesService on a store shared by several instances', () => {
  let dir: string;
  let base: SqliteCallStore;
  const services: RulesService[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-rules-'));
    base = new SqliteCallStore(join(dir, 'calls.db'));
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const service of services.splice(0)) await service.onModuleDestroy();
    await base.close();
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  it("takes another instance's save even when the reload it prompted failed: it tries again", async () => {
    const view = sharedStore(base);
    const [a, b] = [view(), view()];
    const [first, second] = [new RulesService({}, a.store), new RulesService({}, b.store)];
    services.push(first, second);
    await first.onModuleInit();
    await second.onModuleInit();
    expect(second.current.set.version).toBe(first.current.set.version);

    b.state.failLoads = 1; // the notice comes while B cannot read the database
    const edit = {
      version: 1,
      rules: [{ id: 'support', action: { accept: { model: 'gpt-realtime' } } }],
    };
    await first.replace(edit, first.current.set.version);
    const wanted = first.current.set.version;
    for (let i = 0; i < 200 && second.current.set.version !== wanted; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(second.current.set.version).toBe(wanted);
    expect(b.state.failLoads).toBeLessThan(0); // it did fail once, and read again
  });
});
