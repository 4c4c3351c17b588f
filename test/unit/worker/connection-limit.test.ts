// nginx_events_worker_connections against uWS's App.filter, with a stand-in app that plays uWS's
// part: the filter is called with +1 when a connection opens and -1 when it closes (also when the
// filter itself closed it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { limitConnections } from '../../../src/worker/server/connection-limit';
import type { HttpResponse, TemplatedApp } from '../../../src/worker/server/uws';

class FakeApp {
  cb: ((res: HttpResponse, count: number) => void) | null = null;
  filters = 0;
  open = new Set<number>();
  closedByGateway: number[] = [];
  filter(cb: (res: HttpResponse, count: number) => void): this {
    this.filters++;
    this.cb = cb;
    return this;
  }
  connect(id: number): void {
    this.open.add(id);
    const res = { close: () => this.#close(id, true) } as unknown as HttpResponse;
    this.cb?.(res, 1);
  }
  disconnect(id: number): void {
    this.#close(id, false);
  }
  #close(id: number, byGateway: boolean): void {
    if (!this.open.delete(id)) return;
    if (byGateway) this.closedByGateway.push(id);
    this.cb?.({} as HttpResponse, -1);
  }
}

test('auto (0) attaches nothing: no filter, no cost per connection', () => {
  const app = new FakeApp();
  assert.equal(limitConnections(app as unknown as TemplatedApp, 0), true);
  assert.equal(app.filters, 0);
});

test('beyond the limit a new connection is closed at once; established ones stay; a freed slot is taken again', () => {
  const app = new FakeApp();
  assert.equal(limitConnections(app as unknown as TemplatedApp, 3), true);
  assert.equal(app.filters, 1);
  for (let i = 1; i <= 3; i++) app.connect(i);
  assert.deepEqual(app.closedByGateway, []);
  app.connect(4);
  app.connect(5);
  assert.deepEqual(app.closedByGateway, [4, 5], 'the 4th and 5th are closed as they open');
  assert.deepEqual([...app.open], [1, 2, 3], 'the established ones are untouched');
  app.disconnect(2);
  app.connect(6);
  assert.deepEqual([...app.open], [1, 3, 6], 'a closed connection frees its place');
});

test('a build without App.filter (uWS 20.30) says it cannot count', () => {
  assert.equal(limitConnections({} as TemplatedApp, 5), false);
});
