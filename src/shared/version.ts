/** Hyperway's version, and the Kong version whose behaviour (and Admin API) it follows. */
export const HYPERWAY_VERSION = '0.1.0';
export const KONG_COMPAT_VERSION = '3.10.0';
/** Kong's product token, so clients keyed on it keep working, with Hyperway named in the comment. */
export const SERVER_HEADER = `kong/${KONG_COMPAT_VERSION} (hyperway/${HYPERWAY_VERSION})`;
