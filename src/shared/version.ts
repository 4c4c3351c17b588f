/** Hyperway's version, and the Kong version whose behaviour it follows. */
export const HYPERWAY_VERSION = '0.1.0';
export const KONG_COMPAT_VERSION = '3.10.0';
