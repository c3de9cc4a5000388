/** How long a decision waits, by default, for the announcement of the surface it prefers. */
export const DEFAULT_TWIN_WAIT_MS = 300;
/** The longest such wait that may be configured: the caller hears ringing meanwhile. */
export const MAX_TWIN_WAIT_MS = 5000;
