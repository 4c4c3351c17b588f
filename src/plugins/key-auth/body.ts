/**
 * The request body as key-auth reads it (Kong's `kong.request.get_body()` with no arguments):
 * form-urlencoded and JSON objects are fields; anything else, or a body that cannot be parsed,
 * has none (Kong 3.10 logs "Cannot process request body" and carries on).
 */
import { DUPLICATE, NOT_A_STRING, lookupArg, removeArg, type ArgValue } from './args';

export interface BodyFields {
  lookup(name: string): ArgValue;
  /** The body without field `name`, or null when it had no such field. */
  without(name: string): Buffer | null;
}

export const NO_FIELDS: BodyFields = { lookup: () => undefined, without: () => null };

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

export function bodyFields(contentType: string | null, body: Buffer): BodyFields {
  if (contentType === null || body.length === 0) return NO_FIELDS;
  const type = contentType.toLowerCase();
  if (type.includes(FORM)) {
    // latin1 keeps every byte as one char, so a field removal gives back the other bytes unchanged.
    const raw = body.toString('latin1');
    return {
      lookup: (name) => lookupArg(raw, name, true),
      without: (name) => {
        const rest = removeArg(raw, name, true);
        return rest === null ? null : Buffer.from(rest, 'latin1');
      },
    };
  }
  if (type.includes(JSON_TYPE)) {
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      return NO_FIELDS;
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return NO_FIELDS;
    const obj = doc as Record<string, unknown>;
    return {
      lookup: (name) => {
        if (!Object.prototype.hasOwnProperty.call(obj, name)) return undefined;
        const v = obj[name];
        if (typeof v === 'string') return v;
        // Kong sees a JSON array or object as a table, which it reports as a duplicate key.
        return typeof v === 'object' && v !== null ? DUPLICATE : NOT_A_STRING;
      },
      without: (name) => {
        if (!Object.prototype.hasOwnProperty.call(obj, name)) return null;
        const rest = { ...obj };
        delete rest[name];
        return Buffer.from(JSON.stringify(rest), 'utf8');
      },
    };
  }
  return NO_FIELDS;
}
