/** The delivery an event came in: what the envelope falls back on when its own field is unusable. */
export interface DeliveryFacts {
  /** The `webhook-id` header (signed with the body). */
  webhookId: string;
  /** When the delivery arrived, ms since the epoch. */
  receivedAt: number;
}

/** An envelope field that could not be used as it arrived, and what stands in for it. */
export interface ReplacedField {
  path: string;
  problems: string[];
  /** Absent when the field was dropped (it is optional). */
  replaced_with?: string | number;
}

/**
 * How the parser takes an event type that must not be refused for what it can do without.
 * A ringing call answered 400 keeps ringing while OpenAI retries for days, so its type names
 * the few fields it needs, bounds the caller's data before validation, and takes an unusable
 * envelope field from the delivery instead of refusing the event.
 */
export interface EventIntake {
  /** Paths (and their children) whose problems still refuse the event with 400. */
  essential: readonly string[];
  /** Bounds the parsed body in place so that what remains validates; records what it cut. */
  bound(plain: Record<string, unknown>): void;
  /** Records on the validated event which envelope fields were replaced. */
  noteReplaced(event: object, replaced: ReplacedField[]): void;
}
