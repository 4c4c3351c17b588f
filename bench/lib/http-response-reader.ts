/**
 * The constant-rate generator's HTTP/1.1 response framing: heads split anywhere, several
 * responses in one read, bodies by Content-Length only (every target here sends one; a response
 * without it is an error the generator counts and closes the connection for).
 */
export class ResponseReader {
  /** Bytes of a head seen so far (latin1), while no blank line has arrived. */
  #head = '';
  /** Body bytes still to skip; -1 while reading a head. */
  #remaining = -1;
  #status = 0;

  /** Feeds one read; calls `onResponse(status)` per complete response. Throws on a head it cannot frame. */
  feed(chunk: Buffer, onResponse: (status: number) => void): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.#remaining < 0) {
        const carried = this.#head.length;
        // Only the head is needed as text: a body byte can never contain the blank line we look for first.
        const text = this.#head + chunk.toString('latin1', off, Math.min(chunk.length, off + 8192));
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          if (text.length > 65536) throw new Error('response head over 64 KiB');
          this.#head = text;
          if (chunk.length - off <= 8192) return;
          off += 8192;
          continue;
        }
        const head = text.slice(0, end);
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
        const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
        if (!status) throw new Error(`not an HTTP/1.x response: ${JSON.stringify(head.slice(0, 40))}`);
        if (!length) throw new Error('response without Content-Length');
        off += end + 4 - carried;
        this.#head = '';
        this.#status = Number(status[1]);
        this.#remaining = Number(length[1]);
      }
      const take = Math.min(this.#remaining, chunk.length - off);
      off += take;
      this.#remaining -= take;
      if (this.#remaining === 0) {
        this.#remaining = -1;
        onResponse(this.#status);
      }
    }
  }

  /** True between responses (nothing partial buffered). */
  get idle(): boolean {
    return this.#remaining < 0 && this.#head.length === 0;
  }
}
