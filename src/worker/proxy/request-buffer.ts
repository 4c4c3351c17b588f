/**
 * request_buffering's spill file, as nginx's client_body_temp: a held request body larger than
 * client_body_buffer_size goes to a temp file, unlinked as soon as it is open (the data lives as
 * long as the descriptor: nothing is left behind if the worker dies). Writes are sequential
 * (writev of whatever queued meanwhile); every try reads the file again from the start with
 * positional reads, so a held body can be replayed on a retry.
 */
import { openSync, unlinkSync, closeSync, writev, read, close } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

const READ_SIZE = 64 * 1024;
let sequence = 0;

/** What the spill reports to (the request body reader). */
export interface SpillOwner {
  /** Every byte given so far is on disk (or err): `pending` dropped to 0. */
  spillWritten(err: Error | null): void;
  /** A reader's consumer asked for bytes: the upstream is taking them. */
  spillPulled(): void;
  /** A reader's buffer is full: the upstream stopped taking bytes. */
  spillStalled(): void;
}

export class SpillFile {
  readonly #fd: number;
  readonly #owner: SpillOwner;
  /** Bytes written to the file. */
  length = 0;
  /** Bytes given to write() and not yet on disk. */
  pending = 0;
  #queue: Buffer[] = [];
  #writing = false;
  #closed = false;
  /** Reads in flight: the descriptor closes once they are back (its number could be reused). */
  #reads = 0;
  #reader: SpillStream | null = null;
  #fdGone = false;
  readonly #afterWrite: (err: Error | null, bytes: number) => void;

  /** Throws when the temp file cannot be created. */
  constructor(owner: SpillOwner) {
    this.#owner = owner;
    const path = join(tmpdir(), `hyperway-body-${process.pid}-${++sequence}`);
    this.#fd = openSync(path, 'wx+', 0o600);
    try {
      unlinkSync(path);
    } catch (e) {
      closeSync(this.#fd);
      throw e;
    }
    this.#afterWrite = this.#written.bind(this);
  }

  write(chunk: Buffer): void {
    this.#queue.push(chunk);
    this.pending += chunk.length;
    if (!this.#writing) this.#flush();
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#writing = true;
    writev(this.#fd, batch, this.length, this.#afterWrite);
  }

  #written(err: Error | null, bytes: number): void {
    this.#writing = false;
    if (this.#closed) {
      this.#release();
      return;
    }
    if (err === null) {
      this.length += bytes;
      this.pending -= bytes;
      // A short write (disk full, a signal) leaves the rest unwritten: the body is incomplete.
      if (this.pending > 0 && this.#queue.length === 0) err = Object.assign(new Error('short write to the request body file'), { code: 'ENOSPC' });
    }
    if (err !== null) {
      this.#owner.spillWritten(err);
      return;
    }
    if (this.#queue.length > 0) this.#flush();
    else this.#owner.spillWritten(null);
  }

  /** A fresh reader over the whole file, for one try; the previous one is dropped. */
  reader(): Readable {
    if (this.#reader !== null && !this.#reader.destroyed) this.#reader.destroy();
    const r = new SpillStream(this);
    this.#reader = r;
    return r;
  }

  /** One positional read for a reader. */
  readAt(r: SpillStream, position: number): void {
    if (this.#closed) {
      r.destroy(Object.assign(new Error('request body file closed'), { code: 'HW_ERR_BODY_GONE' }));
      return;
    }
    this.#reads++;
    const size = Math.min(READ_SIZE, this.length - position);
    read(this.#fd, Buffer.allocUnsafe(size), 0, size, position, (err, n, buf) => {
      this.#reads--;
      if (this.#closed) {
        this.#release();
        if (!r.destroyed) r.destroy();
        return;
      }
      r.got(err, n === size ? buf : buf.subarray(0, n));
    });
  }

  pulled(): void {
    this.#owner.spillPulled();
  }

  stalled(): void {
    this.#owner.spillStalled();
  }

  /** The exchange is over: readers stop, the descriptor closes once no I/O is in flight. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    const r = this.#reader;
    this.#reader = null;
    if (r !== null && !r.destroyed) r.destroy();
    this.#release();
  }

  #release(): void {
    if (this.#writing || this.#reads > 0 || this.#fdGone) return;
    this.#fdGone = true;
    close(this.#fd, () => undefined);
  }
}

class SpillStream extends Readable {
  readonly #file: SpillFile;
  #position = 0;
  #busy = false;

  constructor(file: SpillFile) {
    super({ highWaterMark: READ_SIZE });
    this.#file = file;
  }

  override _read(): void {
    this.#file.pulled();
    if (this.#busy) return;
    if (this.#position >= this.#file.length) {
      this.push(null);
      return;
    }
    this.#busy = true;
    this.#file.readAt(this, this.#position);
  }

  got(err: Error | null, chunk: Buffer): void {
    this.#busy = false;
    if (this.destroyed) return;
    if (err !== null || chunk.length === 0) {
      this.destroy(err ?? Object.assign(new Error('request body file shorter than written'), { code: 'HW_ERR_BODY_GONE' }));
      return;
    }
    this.#position += chunk.length;
    if (!this.push(chunk)) this.#file.stalled();
    else if (this.#position >= this.#file.length) this.push(null);
  }
}
