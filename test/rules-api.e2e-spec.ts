import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import { CallsModule } from '../src/calls/calls.module';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { createTestApp, eventually, TestApp } from './support/test-app';

const TOKEN = 'rules-admin-token';
const accept = { accept: { model: 'gpt-realtime' } };
const SEED = {
  version: 1,
  settings: { default_country: 'US', timezone: 'UTC' },
  rules: [
    { id: 'sales', when: { field: 'called.number', equals: '+18005550100' }, action: accept },
    {
      id: 'support',
      when: { field: 'called.number', equals: '+18005550200' },
      action: { refer: { target_uri: 'tel:+14155550199' } },
    },
  ],
};
const CALL = [
  { name: 'From', value: '<sip:+14155550123@pbx.example.com>' },
  { name: 'To', value: '<sip:+18005550200@sip.api.openai.com>' },
];

describe('rules API', () => {
  let t: TestApp;
  let dir: string;

  async function start(mode: 'api' | 'file', document: unknown = SEED) {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-rules-'));
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
    t = await createTestApp({
      options: { adminToken: TOKEN },
      imports: [
        CallsModule.forRoot({
          store: new SqliteCallStore(':memory:'),
          ...(mode === 'file' ? { rulesFile: file } : { seedRulesFile: file }),
        }),
      ],
    });
    return file;
  }
  afterEach(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = (method: 'get' | 'post' | 'put' | 'delete', path: string) =>
    request(t.app.getHttpServer())[method](path).set('Authorization', `Bearer ${TOKEN}`);

  it('answers 401 without the admin token', async () => {
    await start('api');
    await request(t.app.getHttpServer()).get('/rules').expect(401);
    await request(t.app.getHttpServer())
      .post('/rules/evaluate')
      .send({ sip_headers: CALL })
      .expect(401);
  });

  describe('POST /rules/evaluate', () => {
    it('names the matched rule, the rendered action and why each earlier rule failed', async () => {
      await start('api');
      const response = await admin('post', '/rules/evaluate')
        .send({ sip_headers: CALL })
        .expect(200);
      expect(response.body).toMatchObject({
        route: 'rule',
        rule: 'support',
        action: { type: 'refer', target_uri: 'tel:+14155550199' },
        explanation: {
          matched: 'support',
          rules_before: [
            {
              rule: 'sales',
              failed: 'rules[0].when: called.number is "+18005550200", expected "+18005550100"',
            },
          ],
        },
      });
    });

    it('tries an unsaved rule set, and refuses a broken one with every problem', async () => {
      await start('api');
      const candidate = { rules: [{ id: 'all', action: { reject: { status_code: 486 } } }] };
      const ok = await admin('post', '/rules/evaluate')
        .send({ sip_headers: CALL, rules: candidate })
        .expect(200);
      expect(ok.body.action).toEqual({ type: 'reject', status_code: 486 });
      const broken = { rules: [{ id: 'x', when: { header: 'X', regex: '(' }, action: accept }] };
      const refused = await admin('post', '/rules/evaluate')
        .send({ sip_headers: CALL, rules: broken })
        .expect(400);
      expect(refused.body.problems).toEqual([
        {
          path: 'rules[0].when.regex',
          message: expect.stringContaining('invalid regular expression'),
        },
      ]);
    });

    it('refuses a body that is not JSON with 400, and one over 1 MiB with 413', async () => {
      await start('api');
      const broken = await admin('post', '/rules/evaluate')
        .set('Content-Type', 'application/json')
        .send('{"sip_headers": [')
        .expect(400);
      expect(broken.body.message).toMatch(/JSON/);
      const huge = JSON.stringify({ sip_headers: CALL, padding: 'x'.repeat(1024 * 1024) });
      await admin('post', '/rules/evaluate')
        .set('Content-Type', 'application/json')
        .send(huge)
        .expect(413);
    });

    it.each([
      ['no headers', {}, 'sip_headers'],
      ['a header without a value', { sip_headers: [{ name: 'From' }] }, 'sip_headers.0.value'],
      ['a bad time', { sip_headers: CALL, at: 'tomorrow' }, 'at'],
      ['an unknown field', { sip_headers: CALL, colour: 'red' }, 'colour'],
    ])('refuses %s with 400', async (_case, body, field) => {
      await start('api');
      const response = await admin('post', '/rules/evaluate').send(body).expect(400);
      expect(JSON.stringify(response.body.message)).toContain(field);
    });
  });

  describe('when the store owns the rules', () => {
    it('creates, replaces, reorders and deletes rules, each guarded by If-Match', async () => {
      await start('api');
      const first = await admin('get', '/rules').expect(200);
      const etag = first.headers.etag;
      expect(first.body).toMatchObject({
        source: 'api',
        document: { rules: [{ id: 'sales' }, { id: 'support' }] },
      });

      await admin('post', '/rules').send({ id: 'vip', action: accept }).expect(428);
      const created = await admin('post', '/rules')
        .set('If-Match', etag)
        .send({ id: 'vip', priority: 1, action: accept })
        .expect(201);
      expect(created.headers.etag).not.toBe(etag);

      // A second operator still holding the old version loses, loudly.
      const stale = await admin('delete', '/rules/sales').set('If-Match', etag).expect(412);
      expect(stale.body.message).toContain('changed since');

      const evaluated = await admin('post', '/rules/evaluate')
        .send({ sip_headers: CALL })
        .expect(200);
      expect(evaluated.body.rule).toBe('vip');

      let current = created.headers.etag;
      const replaced = await admin('put', '/rules/vip')
        .set('If-Match', current)
        .send({ when: { header: 'X-Tier', equals: 'gold' }, action: accept })
        .expect(200);
      current = replaced.headers.etag;
      const reordered = await admin('put', '/rules/order')
        .set('If-Match', current)
        .send({ ids: ['support', 'vip', 'sales'] })
        .expect(200);
      expect(reordered.body.document.rules.map((r: { id: string }) => r.id)).toEqual([
        'support',
        'vip',
        'sales',
      ]);
      current = reordered.headers.etag;
      await admin('put', '/rules/order')
        .set('If-Match', current)
        .send({ ids: ['support'] })
        .expect(400);
      await admin('delete', '/rules/sales').set('If-Match', current).expect(200);
      const after = await admin('get', '/rules').expect(200);
      expect(after.body.document.rules.map((r: { id: string }) => r.id)).toEqual([
        'support',
        'vip',
      ]);
      await admin('get', '/rules/sales').expect(404);
      expect((await admin('get', '/rules/vip').expect(200)).body).toMatchObject({ id: 'vip' });
    });

    it('refuses an invalid rule with the path of each problem and keeps the rules as they were', async () => {
      await start('api');
      const { headers } = await admin('get', '/rules').expect(200);
      const refused = await admin('post', '/rules')
        .set('If-Match', headers.etag)
        .send({
          id: 'bad',
          when: { field: 'caller.phone', equals: '1' },
          action: { reject: { status_code: 200 } },
        })
        .expect(400);
      expect(refused.body.problems.map((p: { path: string }) => p.path)).toEqual([
        'rules[2].action.reject.status_code',
        'rules[2].when.field',
      ]);
      await admin('post', '/rules')
        .set('If-Match', headers.etag)
        .send({ id: 'sales', action: accept })
        .expect(409);
      expect((await admin('get', '/rules').expect(200)).headers.etag).toBe(headers.etag);
    });

    it('warns on save about a rule an earlier one makes unreachable', async () => {
      await start('api');
      const { headers } = await admin('get', '/rules').expect(200);
      const saved = await admin('post', '/rules')
        .set('If-Match', headers.etag)
        .send({
          id: 'sales-gold',
          when: {
            all: [
              { field: 'called.number', equals: '+18005550100' },
              { header: 'X-Tier', equals: 'gold' },
            ],
          },
          action: accept,
        })
        .expect(201);
      expect(saved.body.warnings).toEqual([
        'rule "sales-gold" is unreachable: the earlier rule "sales" matches every call it would',
      ]);
    });
  });

  describe('pattern cost', () => {
    it('refuses on save a pattern that would take seconds per call, naming the rule and the pattern', async () => {
      await start('api');
      const { headers } = await admin('get', '/rules').expect(200);
      const freezer = '(?:a?){999}'.repeat(80) + 'a{999}'; // under 1,000 characters
      const refused = await admin('post', '/rules')
        .set('If-Match', headers.etag)
        .send({
          id: 'slow',
          when: {
            any: [
              { header: 'X-Pin', regex: freezer },
              { header: 'X-Pin', glob: `${'?'.repeat(400)}*` },
            ],
          },
          action: accept,
        })
        .expect(400);
      expect(refused.body.problems).toEqual([
        {
          path: 'rules[2].when.any[0].regex',
          message: expect.stringMatching(
            /^regex "\(\?:a\?\)\{999\}.*" compiles to about [\d,]+ instructions, more than the 256/,
          ),
        },
        {
          path: 'rules[2].when.any[1].glob',
          message: expect.stringMatching(/^glob "\?+\.\.\." compiles to [\d,]+ instructions/),
        },
      ]);
      expect((await admin('get', '/rules').expect(200)).headers.etag).toBe(headers.etag);
    });

    it("reads a value only within the pattern's budget, and the explanation says so", async () => {
      await start('api');
      const scanners =
        '(?i)(friendly-scanner|sipvicious|sipcli|sip-scan|vaxsipuseragent|pplsip|iwar|sipsak)';
      const rules = {
        rules: [{ id: 'scanner', when: { header: 'User-Agent', regex: scanners }, action: accept }],
      };
      const call = (agent: string) =>
        admin('post', '/rules/evaluate')
          .send({ sip_headers: [...CALL, { name: 'User-Agent', value: agent }], rules })
          .expect(200);
      expect((await call('sipvicious 0.3')).body.rule).toBe('scanner');
      // 76 instructions read 431 characters per call; this value is longer.
      const padded = await call(`${'x'.repeat(600)} sipvicious`);
      expect(padded.body.route).toBe('default');
      expect(padded.body.explanation.rules_before[0].failed).toContain(
        '(1 value not tested: past the 431 characters this pattern may read per call)',
      );
    });
  });

  describe('client mistakes', () => {
    const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const json = JSON.stringify({ id: 'a', action: accept });

    it.each([
      ['put', '/rules'],
      ['post', '/rules'],
      ['put', '/rules/sales'],
      ['put', '/rules/order'],
      ['post', '/rules/evaluate'],
    ] as const)('%s %s: JSON sent as text/plain is a 400 that says so', async (method, path) => {
      await start('api');
      const { headers } = await admin('get', '/rules').expect(200);
      const response = await admin(method, path)
        .set('If-Match', headers.etag)
        .set('Content-Type', 'text/plain')
        .send(json)
        .expect(400);
      expect(response.body.message).toContain('Content-Type: application/json');
      expect(response.body.message).toContain('text/plain');
    });

    it.each([
      ['put', '/rules', (body: string) => `{"rules": ${body}}`],
      ['post', '/rules', (body: string) => `{"id": "a", "action": {"accept": ${body}}}`],
      ['post', '/rules/evaluate', (body: string) => `{"sip_headers": [], "rules": ${body}}`],
    ] as const)(
      '%s %s: a body nested 100,000 levels deep is a 400 that says so',
      async (method, path, wrap) => {
        await start('api');
        const { headers } = await admin('get', '/rules').expect(200);
        const response = await admin(method, path)
          .set('If-Match', headers.etag)
          .set('Content-Type', 'application/json')
          .send(wrap(deep(100_000)))
          .expect(400);
        expect(response.body.message).toContain('deeper than 64 levels');
        expect((await admin('get', '/rules').expect(200)).headers.etag).toBe(headers.etag);
      },
    );

    it('a rule edit without a body is a 400 that says what to send', async () => {
      await start('api');
      const { headers } = await admin('get', '/rules').expect(200);
      const response = await admin('post', '/rules').set('If-Match', headers.etag).expect(400);
      expect(response.body.message).toContain('one rule as a JSON object');
    });

    it('reports every problem of a rule set at once, each with its path', async () => {
      await start('api');
      const { headers } = await admin('get', '/rules').expect(200);
      const refused = await admin('put', '/rules')
        .set('If-Match', headers.etag)
        .send({
          version: 2,
          rules: [
            {
              id: 'bad',
              when: {
                all: [
                  { field: 'caller.phone', equals: '1' },
                  { header: 'X-Tier', regex: '(unclosed' },
                ],
              },
              action: { reject: { status_code: 200 } },
              prority: 5,
            },
            { id: 'tpl', action: { accept: { instructions: 'Hi {{headers.x-name' } } },
            { id: 'tpl', action: accept },
          ],
        })
        .expect(400);
      expect(refused.body.problems).toEqual(
        expect.arrayContaining([
          { path: 'version', message: expect.any(String) },
          { path: 'rules[0]', message: expect.stringContaining('unknown key "prority"') },
          { path: 'rules[0].action.reject.status_code', message: expect.any(String) },
          {
            path: 'rules[0].when.all[0].field',
            message: expect.stringContaining('unknown field'),
          },
          {
            path: 'rules[0].when.all[1].regex',
            message: expect.stringContaining('invalid regular expression'),
          },
          { path: 'rules[1].action.accept.instructions', message: expect.any(String) },
          { path: 'rules[2].id', message: expect.stringContaining('also the id of rules[1]') },
        ]),
      );
      expect(refused.body.problems).toHaveLength(7);
    });

    it('property: no body, content type or path gets a 500 from the rules API', async () => {
      await start('api');
      const vocabulary = fc.constantFrom(
        'id',
        'when',
        'action',
        'priority',
        'enabled',
        'rules',
        'settings',
        'default',
        'on_error',
        'field',
        'header',
        'equals',
        'in',
        'regex',
        'glob',
        'dial',
        'prefix',
        'all',
        'any',
        'not',
        'time',
        'gte',
        'accept',
        'reject',
        'refer',
        'status_code',
        'target_uri',
        'instructions',
        'sip_headers',
        'name',
        'value',
        'ids',
        'at',
      );
      // JSON built from the rules' own words, so that the compiler is reached, not only the parser.
      const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
        tree: fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          fc.jsonValue({ maxDepth: 1 }),
          fc.constantFrom(
            'caller.number',
            'X-Tier',
            '(',
            '{{headers.x',
            'sip:{{call_id}}',
            '_1NXX',
          ),
          fc.array(tie('tree'), { maxLength: 3 }),
          fc.dictionary(vocabulary, tie('tree'), { maxKeys: 4 }),
        ),
      }));
      const body = fc.oneof(
        tree.map((value) => JSON.stringify(value)),
        fc.string(),
        fc.constant(deep(5000)),
      );
      const endpoint = fc.constantFrom(
        ['put', '/rules'],
        ['post', '/rules'],
        ['put', '/rules/sales'],
        ['delete', '/rules/sales'],
        ['put', '/rules/order'],
        ['post', '/rules/evaluate'],
        ['get', '/rules/%E0%A4%A'],
      ) as fc.Arbitrary<['get' | 'put' | 'post' | 'delete', string]>;
      const type = fc.constantFrom(
        'application/json',
        'text/plain',
        'application/merge-patch+json',
        'application/json; charset=latin1',
        'application/x-www-form-urlencoded',
      );
      await fc.assert(
        fc.asyncProperty(
          endpoint,
          body,
          type,
          fc.boolean(),
          async ([method, path], text, contentType, current) => {
            const etag = current ? (await admin('get', '/rules')).headers.etag : '"stale"';
            const response = await admin(method, path)
              .set('If-Match', etag)
              .set('Content-Type', contentType)
              .send(text);
            expect(response.status).toBeLessThan(500);
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('when a rules file owns the rules', () => {
    it('refuses API edits with 409 and says where to edit', async () => {
      await start('file');
      const { headers, body } = await admin('get', '/rules').expect(200);
      expect(body.source).toBe('file');
      const refused = await admin('post', '/rules')
        .set('If-Match', headers.etag)
        .send({ id: 'x', action: accept })
        .expect(409);
      expect(refused.body.message).toContain('edit the file instead');
    });

    it('reloads when a mounted ConfigMap swaps its ..data link (the file name itself never changes)', async () => {
      dir = mkdtempSync(join(tmpdir(), 'switchboard-configmap-'));
      const { mkdirSync, renameSync, symlinkSync } = await import('node:fs');
      const version = (name: string, document: unknown) => {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, 'rules.json'), JSON.stringify(document));
      };
      version('..v1', SEED);
      symlinkSync('..v1', join(dir, '..data'));
      symlinkSync(join('..data', 'rules.json'), join(dir, 'rules.json'));
      t = await createTestApp({
        options: { adminToken: TOKEN },
        imports: [
          CallsModule.forRoot({
            store: new SqliteCallStore(':memory:'),
            rulesFile: join(dir, 'rules.json'),
          }),
        ],
      });
      const before = (await admin('get', '/rules').expect(200)).body.version;
      version('..v2', { ...SEED, rules: [SEED.rules[0]] });
      symlinkSync('..v2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data')); // atomic, as the kubelet does
      await eventually(async () => {
        const now = await admin('get', '/rules').expect(200);
        expect(now.body.version).not.toBe(before);
        expect(now.body.document.rules.map((r: { id: string }) => r.id)).toEqual(['sales']);
      });
    });

    it('reloads a good edit, and refuses a broken one with its line while the last good rules stay live', async () => {
      const file = await start('file');
      const before = (await admin('get', '/rules').expect(200)).body.version;
      const edited = { ...SEED, rules: [SEED.rules[1]] };
      writeFileSync(file, JSON.stringify(edited, null, 2));
      await eventually(async () => {
        const now = await admin('get', '/rules').expect(200);
        expect(now.body.version).not.toBe(before);
        expect(now.body.document.rules.map((r: { id: string }) => r.id)).toEqual(['support']);
      });
      const good = (await admin('get', '/rules').expect(200)).body.version;

      const broken = JSON.stringify(
        {
          ...SEED,
          rules: [
            { id: 'support', when: { field: 'called.number', dial: '_1800Q' }, action: accept },
          ],
        },
        null,
        2,
      );
      writeFileSync(file, broken);
      await eventually(async () => {
        const now = await admin('get', '/rules').expect(200);
        expect(now.body.last_refused_edit).toContain('rules[0].when.dial');
      });
      const now = await admin('get', '/rules').expect(200);
      expect(now.body.version).toBe(good);
      const line = broken.split('\n').findIndex((l) => l.includes('_1800Q')) + 1;
      expect(now.body.last_refused_edit).toContain(`rules.json:${line}:`);
      expect(readFileSync(file, 'utf8')).toBe(broken);
    });
  });
});
