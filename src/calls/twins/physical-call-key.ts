import { createHash } from 'node:crypto';
import { CallFacts } from '../sip/call-facts';

/**
 * The key of the physical call behind an announcement: the INVITE's SIP `Call-ID`, checked
 * against its `From` (URI and tag) and `To` (URI). OpenAI documents no shared id between the two
 * surfaces' events for one INVITE, but both carry the INVITE's headers: two announcements with
 * the same key are the same ringing phone. A `Call-ID` alone is not enough (a carrier may reuse
 * one, or a caller may choose it); with `From` and `To` it names one dialog (RFC 3261 12).
 *
 * Undefined when the INVITE has no Call-ID: such a call can only be paired by an id both
 * surfaces share (the early Live events), else it is routed alone. The key is a digest, so the
 * store indexes a fixed-size value whatever the caller sent.
 */
export function physicalCallKey(facts: CallFacts): string | undefined {
  const callId = facts.headers.first('call-id');
  if (!callId) return undefined;
  const from = facts.addresses.from[0];
  const to = facts.addresses.to[0];
  // URIs compare without case (hosts and schemes do; the same INVITE repeats the same user);
  // the Call-ID and the tag are tokens compared as sent.
  const parts = [
    callId,
    from?.uri.toLowerCase() ?? facts.headers.first('from') ?? '',
    from?.params.tag ?? '',
    to?.uri.toLowerCase() ?? facts.headers.first('to') ?? '',
  ];
  return createHash('sha256').update(parts.join('\n')).digest('base64url');
}
