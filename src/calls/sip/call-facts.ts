import { addressNumber } from './address-number';
import { parseSipAddress, SipAddress } from './sip-address';
import { SipHeaderBag } from './sip-header-bag';
import type { SurfaceName } from '../surfaces/surface-name';

/** The address roles a rule can look at. `called` is `To`: the events carry no request URI. */
export const ADDRESS_ROLES = [
  'caller',
  'from',
  'to',
  'called',
  'pai',
  'diversion',
  'contact',
  'referred_by',
] as const;
export type AddressRole = (typeof ADDRESS_ROLES)[number];

export const ADDRESS_PARTS = [
  'uri',
  'display_name',
  'scheme',
  'user',
  'host',
  'port',
  'number',
] as const;
export type AddressPart = (typeof ADDRESS_PARTS)[number];

/** One address with the parts rules compare, the number already normalised. */
export interface AddressFacts extends SipAddress {
  /** E.164 when it normalises, else the raw user part / tel number; absent if not phone-like. */
  number?: string;
}

/** How OpenAI announced the call, beside its SIP headers: facts its twin may still add to. */
export interface CallOfferFacts {
  /** The surfaces that announced the call, in order of arrival. */
  surfaces: SurfaceName[];
  /** `rtp`, `srtp`...: as the announcements said, when one did. */
  mediaSecurity?: string;
  /** The other surface's announcement may still come (the first one is being decided). */
  twinMayCome: boolean;
  /**
   * Set when a rule read a fact the twin could still change (`call.surfaces`, or a
   * `sip_media_security` not said yet): the decision then waits for the twin and is made again.
   */
  readTwinFacts: boolean;
}

/** Everything routing needs to know about a ringing call, derived once from its headers. */
export interface CallFacts {
  callId: string;
  headers: SipHeaderBag;
  addresses: Record<AddressRole, AddressFacts[]>;
  /** The caller asked not to be identified (`Privacy: id`) or is `anonymous`. */
  withheld: boolean;
  offer: CallOfferFacts;
}

/** A call announced on Realtime alone, as every call was before the Live surface. */
const REALTIME_ONLY = { surfaces: ['realtime'] as SurfaceName[], twinMayCome: false };

/**
 * Reads the call's SIP headers the way a telephony engineer would: the caller is
 * P-Asserted-Identity when present, else From; a forwarded call's originally dialled number is
 * in Diversion or History-Info.
 */
export function deriveCallFacts(
  callId: string,
  headers: readonly { name: string; value: string }[],
  defaultCountry?: string,
  offer: Omit<CallOfferFacts, 'readTwinFacts'> = REALTIME_ONLY,
): CallFacts {
  const bag = new SipHeaderBag(headers);
  const read = (name: string) => bag.all(name).flatMap((value) => address(value, defaultCountry));
  const from = read('from').slice(0, 1);
  const to = read('to').slice(0, 1);
  const pai = read('p-asserted-identity');
  const caller = pai.length > 0 ? pai.slice(0, 1) : from;
  const addresses: Record<AddressRole, AddressFacts[]> = {
    caller,
    from,
    to,
    called: to,
    pai,
    diversion: [...read('diversion'), ...read('history-info')],
    contact: read('contact'),
    referred_by: read('referred-by'),
  };
  return {
    callId,
    headers: bag,
    addresses,
    withheld: isWithheld(bag, caller[0]),
    offer: { ...offer, surfaces: [...offer.surfaces], readTwinFacts: false },
  };
}

function address(value: string, defaultCountry?: string): AddressFacts[] {
  const parsed = parseSipAddress(value);
  if (!parsed) return [];
  const facts: AddressFacts = parsed;
  const number = addressNumber(parsed, defaultCountry);
  if (number !== undefined) facts.number = number;
  return [facts];
}

const ANONYMOUS = /^anonymous$/i;

function isWithheld(headers: SipHeaderBag, caller: AddressFacts | undefined): boolean {
  const privacy = headers
    .all('privacy')
    .flatMap((value) => value.split(/[;,]/))
    .map((token) => token.trim().toLowerCase());
  if (privacy.includes('id') || privacy.includes('user') || privacy.includes('header')) return true;
  if (!caller) return true;
  return (
    ANONYMOUS.test(caller.user ?? '') ||
    ANONYMOUS.test(caller.displayName ?? '') ||
    (caller.host ?? '').toLowerCase() === 'anonymous.invalid'
  );
}

/** Parts that name one parameter: `params.tag`, `user_params.verstat`, `uri_headers.replaces`. */
export const ADDRESS_PARAM_PARTS = ['params', 'user_params', 'uri_headers'] as const;
export type AddressParamPart = (typeof ADDRESS_PARAM_PARTS)[number];

/** The values of `role.part` (several when the role has several addresses). */
export function addressPart(
  facts: CallFacts,
  role: AddressRole,
  part: AddressPart | `${AddressParamPart}.${string}`,
): string[] {
  const values: string[] = [];
  for (const entry of facts.addresses[role]) {
    const value = partOf(entry, part);
    if (value !== undefined) values.push(value);
  }
  return values;
}

function partOf(entry: AddressFacts, part: string): string | undefined {
  switch (part) {
    case 'uri':
      return entry.uri;
    case 'display_name':
      return entry.displayName;
    case 'scheme':
      return entry.scheme;
    case 'user':
      return entry.user;
    case 'host':
      return entry.host;
    case 'port':
      return entry.port === undefined ? undefined : String(entry.port);
    case 'number':
      return entry.number;
    default: {
      const dot = part.indexOf('.');
      const name = part.slice(dot + 1).toLowerCase();
      const kind = part.slice(0, dot) as AddressParamPart;
      const params =
        kind === 'user_params'
          ? entry.userParams
          : kind === 'uri_headers'
            ? entry.uriHeaders
            : entry.params;
      return Object.prototype.hasOwnProperty.call(params, name) ? params[name] : undefined;
    }
  }
}
