import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { CallsModule } from '../src/calls/calls.module';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { FakeOpenAI } from './support/fake-openai';
import { sampleEvent } from './support/sample-events';
import { signDelivery } from './support/signing';
import { createTestApp, TestApp } from './support/test-app';

const TOKEN = 'routing-admin-token';
const accept = (instructions: string) => ({ accept: { model: 'gpt-realtime', instructions } });
const DOCUMENT = { version: 1, settings: { default_country: 'US', timezone: 'UTC' }, rules: [] };

/** Routing on addresses as real carriers write them, tried the way users try rules. */
describe('routing on carrier address forms and on numbers however a rule writes them', () => {
  let t: TestApp;
  let fake: FakeOpenAI;
  let dir: string;

  beforeEach(async () => {
    fake = await FakeOpenAI.start();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-routing-'));
  });
  afterEach(async () => {
    await t?.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(document: object = DOCUMENT) {
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify(document));
    t = await createTestApp({
      options: { adminToken: TOKEN },
      imports: [
        CallsModule.forRoot({
          store: new SqliteCallStore(':memory:'),
          rulesFile: file,
          callControl: { apiKey: 'sk-test', baseURL: fake.baseURL, retryBaseMs: 10 },
        }),
      ],
    });
  }

  /** `POST /rules/evaluate` with an unsaved rule set: which rule the call would take. */
  async function evaluate(rules: object[], sipHeaders: { name: string; value: string }[]) {
    const response = await request(t.app.getHttpServer())
      .post('/rules/evaluate')
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ sip_headers: sipHeaders, rules: { ...DOCUMENT, rules } })
      .expect(200);
    return response.body as { rule: string | null; route: string; explanation: object };
  }

  describe('addresses by the RFC 3261 grammar', () => {
    it('routes on the number and the STIR/SHAKEN verstat in the user part of a carrier From', async () => {
      await start();
      const rules = [
        {
          id: 'attested',
          when: {
            all: [
              { field: 'caller.number', equals: '+1 212 555 0199' },
              { field: 'caller.user_params.verstat', equals: 'TN-Validation-Passed' },
            ],
          },
          action: accept('attested'),
        },
      ];
      const headers = (verstat: string) => [
        {
          name: 'From',
          value: `"Verified" <sip:+12125550199;verstat=${verstat}@ims.carrier.example;user=phone>;tag=v1`,
        },
        { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
      ];
      expect(await evaluate(rules, headers('TN-Validation-Passed'))).toMatchObject({
        rule: 'attested',
      });
      expect(await evaluate(rules, headers('TN-Validation-Failed'))).toMatchObject({
        route: 'default',
      });
    });

    it('routes a ported number on its number and on the npdi and rn parameters of the To user part', async () => {
      await start();
      const rules = [
        {
          id: 'ported',
          when: {
            all: [
              { field: 'called.number', equals: '415-555-0123' },
              { field: 'called.user_params.npdi', exists: true },
              { field: 'called.user_params.rn', equals: '+14155551000' },
            ],
          },
          action: accept('ported'),
        },
      ];
      const decision = await evaluate(rules, [
        { name: 'From', value: '<sip:+12125550199@carrier.example>;tag=1' },
        {
          name: 'To',
          value: '<sip:+14155550123;npdi;rn=+14155551000@sip.api.openai.com;user=phone>',
        },
      ]);
      expect(decision).toMatchObject({ rule: 'ported' });
    });

    it('reads host, port and tag of a bare To with white space before ";tag", and an IPv6 Contact', async () => {
      await start();
      const rules = [
        {
          id: 'gateway',
          when: {
            all: [
              { field: 'to.host', equals: 'gw.example.com' },
              { field: 'to.port', equals: 5060 },
              { field: 'to.params.tag', equals: '1' },
              { field: 'contact.host', equals: '[2001:db8::1]' },
              { field: 'contact.port', equals: 5070 },
            ],
          },
          action: accept('gateway'),
        },
      ];
      const decision = await evaluate(rules, [
        { name: 'From', value: '<sip:+12125550199@carrier.example>;tag=9' },
        { name: 'To', value: 'sip:+14155550100@gw.example.com:5060 ;tag=1' },
        { name: 'Contact', value: '<sip:+12125550199@[2001:db8::1]:5070;transport=tcp>' },
      ]);
      expect(decision).toMatchObject({ rule: 'gateway' });
    });

    it('reads a tel: P-Asserted-Identity with parameters as the caller', async () => {
      await start();
      const rules = [
        {
          id: 'extension',
          when: {
            all: [
              { field: 'caller.number', equals: '(201) 555-0123' },
              { field: 'caller.user_params.ext', equals: '1234' },
            ],
          },
          action: accept('extension'),
        },
      ];
      const decision = await evaluate(rules, [
        { name: 'From', value: '<sip:anonymous@anonymous.invalid>;tag=1' },
        {
          name: 'P-Asserted-Identity',
          value: '<tel:+1-201-555-0123;ext=1234;phone-context=example.com>',
        },
        { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
      ]);
      expect(decision).toMatchObject({ rule: 'extension' });
    });
  });

  describe('rule numbers read like header values', () => {
    const CALL = [
      { name: 'From', value: '<sip:+14155550123@pbx.example.com>;tag=1' },
      { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
    ];

    it('matches the called number written every way a rule may write it, with every operator', async () => {
      await start();
      const conditions = [
        { equals: 'tel:1-800-555-0100' },
        { equals: 'tel:+1-800-555-0100;phone-context=example.com' },
        { equals: '<sip:18005550100@gw.example.com;user=phone>' },
        { equals: '+1 800 555 0100' },
        { equals: '800-555-0100' },
        { in: ['tel:+1-888-555-0100', 'tel:1-800-555-0100'] },
        { prefix: 'tel:+1-800' },
        { prefix: '+1 (800)' },
        { suffix: '555-0100' },
        { contains: '800) 555' },
        { glob: '+1 800 555 *' },
        { glob: 'tel:+1-800-555-01??' },
        { dial: '1-800-555-0100' },
        { dial: 'tel:+1-800-555-0100' },
        { dial: '_1-800-NXX-XXXX' },
      ];
      const outcomes: [object, string | null][] = [];
      for (const condition of conditions) {
        const rules = [
          { id: 'r', when: { field: 'called.number', ...condition }, action: accept('x') },
        ];
        outcomes.push([condition, (await evaluate(rules, CALL)).rule]);
      }
      expect(outcomes).toEqual(conditions.map((condition) => [condition, 'r']));
    });

    it('routes a live call by a tel: rule number through the exact-match index to OpenAI', async () => {
      await start({
        ...DOCUMENT,
        rules: [
          {
            id: 'toll-free',
            when: { field: 'called.number', equals: 'tel:1-800-555-0100' },
            action: accept('toll-free'),
          },
        ],
      });
      const callId = 'rtc_tel_operand';
      const body = sampleEvent('realtime.call.incoming', {
        data: { call_id: callId, sip_headers: CALL },
      });
      await t.deliver(signDelivery(JSON.stringify(body))).expect(200);
      const [sent] = await fake.waitForRequests(1);
      expect(sent).toMatchObject({
        path: `/v1/realtime/calls/${callId}/accept`,
        body: { instructions: 'toll-free' },
      });
    });
  });
});
