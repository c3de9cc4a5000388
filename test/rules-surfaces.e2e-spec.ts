import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { readFileSync } from 'node:fs';
import { CallsModule } from '../src/calls/calls.module';
import { compileRuleSet } from '../src/calls/rules/rule-set.compiler';
import { parseRulesText, readRulesFile } from '../src/calls/rules/rules-file';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { createTestApp, TestApp } from './support/test-app';

const TOKEN = 'rules-surfaces-token';
const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'calls', 'rules', 'rules-cli.js');

const LIVE = { model: 'gpt-live-1', instructions: 'Live agent.' };
const RULES = {
  rules: [
    {
      id: 'bank',
      when: {
        all: [
          { header: 'X-Line', equals: 'bank' },
          { not: { field: 'sip_media_security', equals: 'srtp' } },
        ],
      },
      action: { reject: { status_code: 488 } },
    },
    {
      id: 'support',
      action: { accept: { live: LIVE, realtime: { model: 'gpt-realtime' }, prefer: 'live' } },
    },
  ],
};
const CALL = [
  { name: 'From', value: '<sip:+14155550123@pbx.example.com>' },
  { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
];

describe('the dry run and the rules API know the surfaces', () => {
  let t: TestApp;
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-rules-surfaces-'));
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify(RULES));
    t = await createTestApp({
      options: { adminToken: TOKEN },
      imports: [
        CallsModule.forRoot({ store: new SqliteCallStore(':memory:'), seedRulesFile: file }),
      ],
    });
  });
  afterEach(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = (method: 'get' | 'post', path: string) =>
    (method === 'get'
      ? request(t.app.getHttpServer()).get(path)
      : request(t.app.getHttpServer()).post(path)
    ).set('Authorization', `Bearer ${TOKEN}`);
  const evaluate = (body: object) => admin('post', '/rules/evaluate').send(body);

  it('POST /rules/evaluate says which surface the decision goes to, and what is sent there', async () => {
    const both = await evaluate({ sip_headers: CALL, surfaces: ['realtime', 'live'] }).expect(200);
    expect(both.body).toMatchObject({
      rule: 'support',
      action: { type: 'accept', prefer: 'live', sessions: { live: { type: 'live' } } },
      surface: 'live',
      request: { type: 'accept', session: { type: 'live', model: 'gpt-live-1' } },
    });
    const realtimeOnly = await evaluate({ sip_headers: CALL }).expect(200);
    expect(realtimeOnly.body).toMatchObject({
      rule: 'support',
      surface: 'realtime',
      request: { type: 'accept', session: { type: 'realtime', model: 'gpt-realtime' } },
    });
  });

  it('takes sip_media_security into account, and a reject goes to the first surface', async () => {
    const bank = [...CALL, { name: 'X-Line', value: 'bank' }];
    const clear = await evaluate({
      sip_headers: bank,
      surfaces: ['live', 'realtime'],
      sip_media_security: 'rtp',
    }).expect(200);
    expect(clear.body).toMatchObject({
      rule: 'bank',
      surface: 'live',
      request: { type: 'reject', status_code: 488 },
    });
    const secure = await evaluate({ sip_headers: bank, sip_media_security: 'srtp' }).expect(200);
    expect(secure.body).toMatchObject({ rule: 'support', surface: 'realtime' });
    expect(secure.body.explanation.rules_before).toEqual([
      {
        rule: 'bank',
        failed: expect.stringContaining('the negated condition holds'),
      },
    ]);
  });

  it('shows the fallback of an accept for a surface that did not announce the call', async () => {
    const liveOnly = { rules: [{ id: 'live-only', action: { accept: { live: LIVE } } }] };
    const response = await evaluate({ sip_headers: CALL, rules: liveOnly }).expect(200);
    expect(response.body).toMatchObject({
      route: 'on_error',
      surface: 'realtime',
      request: { type: 'reject', status_code: 500 },
      explanation: {
        matched: 'live-only',
        error: 'the rule accepts on live, and the call was announced on realtime only',
      },
    });
  });

  it.each([
    ['an unknown surface', { surfaces: ['webrtc'] }, 'each of surfaces must be realtime or live'],
    ['a surface twice', { surfaces: ['live', 'live'] }, 'surfaces'],
    ['no surface', { surfaces: [] }, 'surfaces'],
    ['a long media word', { sip_media_security: 'x'.repeat(65) }, 'sip_media_security'],
  ])('refuses %s with 400, naming the field', async (_case, extra, words) => {
    const response = await evaluate({ sip_headers: CALL, ...extra }).expect(400);
    expect(JSON.stringify(response.body.message)).toContain(words);
  });

  it('refuses to save a Live accept OpenAI would refuse, naming each problem', async () => {
    const current = await admin('get', '/rules').expect(200);
    const response = await admin('post', '/rules')
      .set('If-Match', `"${current.body.version}"`)
      .send({
        id: 'broken-live',
        action: {
          accept: {
            live: { ...LIVE, tools: [{ type: 'function', name: 'x' }] },
            prefer: 'realtime',
          },
        },
      })
      .expect(400);
    expect(response.body.problems).toEqual([
      {
        path: 'rules[2].action.accept.live.tools',
        message: expect.stringContaining('give them to its delegation'),
      },
      {
        path: 'rules[2].action.accept.prefer',
        message: 'must name a surface this accept gives a session for (live)',
      },
    ]);
    const tools = await admin('post', '/rules')
      .set('If-Match', `"${current.body.version}"`)
      .send({
        id: 'broken-live',
        action: { accept: { live: { ...LIVE, audio: { format: 'pcm16' } } } },
      })
      .expect(400);
    expect(tools.body.problems).toEqual([
      {
        path: 'rules[2].action.accept.live.audio.format',
        message: 'must be omitted for SIP calls (SIP negotiates it)',
      },
    ]);
  });
});

describe("the README's Live rule", () => {
  it('compiles without warnings and is, as written, the rule of rules/live-migration.yaml', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const at = readme.indexOf('**Accepting on Live.**');
    expect(at).toBeGreaterThanOrEqual(0);
    const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(at))![1];
    const excerpt = parseRulesText(block, 'README.md').document as { rules: { id: string }[] };
    expect(compileRuleSet(excerpt).warnings).toEqual([]);
    const example = readRulesFile(join(ROOT, 'rules', 'live-migration.yaml')).document as {
      rules: { id: string }[];
    };
    expect(example.rules.find((rule) => rule.id === excerpt.rules[0].id)).toEqual(excerpt.rules[0]);
  });
});

describe('rules:test knows the surfaces', () => {
  it('passes the Live migration example against its sample calls', () => {
    const result = spawnSync(
      process.execPath,
      [CLI, 'rules/live-migration.yaml', 'rules/live-migration.cases.yaml'],
      { cwd: ROOT, encoding: 'utf8', timeout: 15_000 },
    );
    expect(result.stdout).toContain('rules/live-migration.yaml: valid');
    expect(result.stdout).toContain('6 of 6 case(s) decide as expected');
    expect(result.status).toBe(0);
  });

  it('fails a case whose surface differs, and refuses a case with an unknown surface', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-surfaces-'));
    try {
      const cases = join(dir, 'cases.yaml');
      writeFileSync(
        cases,
        [
          '- name: support on Live only',
          '  surfaces: [realtime]',
          '  sip_headers:',
          '    - { name: To, value: "<sip:+18005550100@sip.api.openai.com>" }',
          '  expect: { rule: support-prefers-live, surface: live }',
          '- name: a surface that does not exist',
          '  surfaces: [webrtc]',
          '  sip_headers: []',
          '  expect: { rule: everything-else }',
        ].join('\n'),
      );
      const result = spawnSync(process.execPath, [CLI, 'rules/live-migration.yaml', cases], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 15_000,
      });
      expect(result.stdout).toContain('expected surface live, got realtime');
      expect(result.stdout).toContain(
        '"surfaces" must list realtime and/or live, in order of arrival, each once',
      );
      expect(result.stdout).toContain('0 of 2 case(s) decide as expected');
      expect(result.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
