/**
 * Transfer-Encoding: chunked, decoded one step at a time so the caller can stop between two
 * pieces of body (backpressure) and carry on later from the same position. Strict: a size that
 * is not hex (or too large), a chunk not followed by CRLF, a bare LF, control bytes in an
 * extension or trailer → error; the response is then a bad one.
 */
import { BAD } from './errors';

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;

const S_SIZE = 0;
const S_SIZE_WS = 1; // whitespace after the digits: only `;` or CR may follow
const S_EXT = 2;
const S_SIZE_LF = 3;
const S_DATA = 4;
const S_DATA_CR = 5;
const S_DATA_LF = 6;
const S_TRAILER_START = 7;
const S_TRAILER = 8;
const S_TRAILER_LF = 9;
const S_END_LF = 10;
const S_DONE = 11;

/** A chunk-size line (extensions included) or the trailer section may not grow past these. */
const MAX_SIZE_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

export class ChunkedDecoder {
  #state = S_SIZE;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #lineBytes = 0;
  /** After step(): the body bytes found, as buf[dataStart, dataEnd); dataStart < 0 when none. */
  dataStart = -1;
  dataEnd = -1;
  /** The reason the body is invalid, once it is. */
  error: string | null = null;

  get done(): boolean {
    return this.#state === S_DONE;
  }

  reset(): void {
    this.#state = S_SIZE;
    this.#size = 0;
    this.#digits = 0;
    this.#remaining = 0;
    this.#lineBytes = 0;
    this.error = null;
  }

  /**
   * Consumes bytes of buf from pos until it has a piece of body to hand over, the body is done,
   * it is invalid, or buf ends. Returns the position after what it consumed.
   */
  step(buf: Buffer, pos: number): number {
    this.dataStart = -1;
    const len = buf.length;
    while (pos < len) {
      const state = this.#state;
      if (state === S_DATA) {
        const n = Math.min(this.#remaining, len - pos);
        this.dataStart = pos;
        this.dataEnd = pos + n;
        this.#remaining -= n;
        if (this.#remaining === 0) this.#state = S_DATA_CR;
        return pos + n;
      }
      const c = buf[pos++];
      switch (state) {
        case S_SIZE: {
          const d = HEX[c];
          if (d >= 0) {
            // 13 hex digits keep the size below 2^52: plenty, and exact as a double.
            if (++this.#digits > 13) return this.#fail(BAD.CHUNK_SIZE, pos);
            this.#size = this.#size * 16 + d;
            this.#lineBytes++;
          } else if (this.#digits === 0) {
            return this.#fail(BAD.CHUNK_SIZE, pos);
          } else if (c === CR) {
            this.#state = S_SIZE_LF;
          } else if (c === 59) { // ';'
            this.#state = S_EXT;
          } else if (c === SP || c === HT) {
            this.#state = S_SIZE_WS;
          } else {
            return this.#fail(BAD.CHUNK_SIZE, pos);
          }
          break;
        }
        case S_SIZE_WS:
          if (c === 59) this.#state = S_EXT;
          else if (c === CR) this.#state = S_SIZE_LF;
          else if (c !== SP && c !== HT) return this.#fail(BAD.CHUNK_SIZE, pos);
          break;
        case S_EXT:
          if (c === CR) this.#state = S_SIZE_LF;
          else if ((c < 0x20 && c !== HT) || c === 0x7f || ++this.#lineBytes > MAX_SIZE_LINE) return this.#fail(BAD.CHUNK_SIZE, pos);
          break;
        case S_SIZE_LF:
          if (c !== LF) return this.#fail(BAD.CHUNK_SIZE, pos);
          this.#lineBytes = 0;
          this.#digits = 0;
          if (this.#size === 0) {
            this.#state = S_TRAILER_START;
          } else {
            this.#remaining = this.#size;
            this.#size = 0;
            this.#state = S_DATA;
          }
          break;
        case S_DATA_CR:
          if (c !== CR) return this.#fail(BAD.CHUNK_END, pos);
          this.#state = S_DATA_LF;
          break;
        case S_DATA_LF:
          if (c !== LF) return this.#fail(BAD.CHUNK_END, pos);
          this.#state = S_SIZE;
          break;
        case S_TRAILER_START:
          if (c === CR) this.#state = S_END_LF;
          else if (c === SP || c === HT || c < 0x20 || c === 0x7f) return this.#fail(BAD.TRAILERS, pos);
          else this.#state = S_TRAILER;
          break;
        case S_TRAILER:
          if (c === CR) this.#state = S_TRAILER_LF;
          else if ((c < 0x20 && c !== HT) || c === 0x7f) return this.#fail(BAD.TRAILERS, pos);
          if (++this.#lineBytes > MAX_TRAILERS) return this.#fail(BAD.TRAILERS, pos);
          break;
        case S_TRAILER_LF:
          if (c !== LF) return this.#fail(BAD.TRAILERS, pos);
          this.#state = S_TRAILER_START;
          break;
        case S_END_LF:
          if (c !== LF) return this.#fail(BAD.TRAILERS, pos);
          this.#state = S_DONE;
          return pos;
        default:
          // S_DONE: the caller stops stepping once done; anything more is not this body's.
          return pos - 1;
      }
    }
    return pos;
  }

  #fail(reason: string, pos: number): number {
    this.error = reason;
    return pos;
  }
}
