// Signed, realistic webhook deliveries, made before the load starts so that signing costs
// the load generator nothing while it measures.
const { randomUUID } = require('node:crypto');
const { signDelivery } = require('../scripts/sign-delivery');

const SECRET = `whsec_${Buffer.from('switchboard-benchmark-secret-0123456789').toString('base64')}`;

const hex = () => randomUUID().replace(/-/g, '');

/** A ringing call as OpenAI sends it: the largest and most frequent body Switchboard sees. */
function incomingCallBody() {
  return JSON.stringify({
    id: `evt_${hex()}`,
    object: 'event',
    created_at: Math.floor(Date.now() / 1000),
    type: 'realtime.call.incoming',
    data: {
      call_id: `rtc_${hex()}`,
      sip_headers: [
        { name: 'Via', value: 'SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK776asdhds' },
        {
          name: 'From',
          value: '"Alice" <sip:+14155550123@pbx.example.com;user=phone>;tag=1928301774',
        },
        { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
        { name: 'Call-ID', value: `${hex()}@pbx.example.com` },
        { name: 'CSeq', value: '314159 INVITE' },
        { name: 'Contact', value: '<sip:alice@192.0.2.10:5061;transport=tls>' },
        { name: 'P-Asserted-Identity', value: '<sip:+14155550123@pbx.example.com>' },
        { name: 'X-Account-Tier', value: 'gold' },
      ],
    },
  });
}

function sign(body) {
  return signDelivery(SECRET, body);
}

/** A background response finished: the high-volume event of most applications. */
function responseCompletedBody() {
  return JSON.stringify({
    id: `evt_${hex()}`,
    object: 'event',
    created_at: Math.floor(Date.now() / 1000),
    type: 'response.completed',
    data: { id: `resp_${hex()}` },
  });
}

/**
 * One ringing phone as a project subscribed to both surfaces receives it: the same INVITE
 * announced as `realtime.call.incoming` and as `live.transport.incoming`, each with its own id.
 */
function twinCallBodies({ realtimeId = `rtc_${hex()}`, liveId = `live_${hex()}` } = {}) {
  const realtime = JSON.parse(incomingCallBody());
  realtime.data.call_id = realtimeId;
  const live = {
    id: `evt_${hex()}`,
    object: 'event',
    created_at: realtime.created_at,
    type: 'live.transport.incoming',
    data: { type: 'sip', session_id: liveId, sip_headers: realtime.data.sip_headers },
  };
  return [JSON.stringify(realtime), JSON.stringify(live)];
}

/**
 * Bodies for a twins load: each call's Realtime announcement, then its Live one, so that under
 * concurrent connections the twins of a call arrive together. `calls()` counts the calls begun.
 */
function twinsSource() {
  let pending;
  let calls = 0;
  const next = () => {
    if (pending) {
      const body = pending;
      pending = undefined;
      return body;
    }
    calls += 1;
    const [realtime, live] = twinCallBodies();
    pending = live;
    return realtime;
  };
  next.calls = () => calls;
  return next;
}

const BODIES = { call: incomingCallBody, response: responseCompletedBody };

function makeDeliveries(count, kind = 'call') {
  return Array.from({ length: count }, () => sign(BODIES[kind]()));
}

module.exports = {
  SECRET,
  BODIES,
  makeDeliveries,
  incomingCallBody,
  responseCompletedBody,
  twinCallBodies,
  twinsSource,
  sign,
};
