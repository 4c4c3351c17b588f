/** ws/wss route protocols: Kong EE's websocket subschema (routes_subschemas.lua). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { doc, lines, load, problems } from './helpers';

const routes = (body: string) => doc(`routes:\n${body}`);

test('ws and wss routes load with their protocols', () => {
  const loaded = load(routes('  - paths: [/chat]\n    protocols: [ws]\n  - hosts: [live.test]\n    protocols: [ws, wss]\n')).snapshot.routes;
  assert.deepEqual(loaded[0].protocols, ['ws']);
  assert.deepEqual(loaded[1].protocols, ['ws', 'wss']);
});

test('ws routes: no methods, a matcher among hosts, headers, paths (snis too for wss), not mixed with http', () => {
  assert.deepEqual(lines(problems(routes([
    '  - paths: [/a]\n    protocols: [ws]\n    methods: [GET]',
    '  - name: bare\n    protocols: [ws]',
    '  - name: bare-tls\n    protocols: [wss]',
    '  - paths: [/b]\n    protocols: [http, ws]',
    '  - paths: [/c]\n    protocols: [ws]\n    snis: [a.test]',
  ].join('\n') + '\n'))), [
    "routes[0].methods: cannot set 'methods' when 'protocols' is 'ws' or 'wss'",
    "routes[1]: must set one of 'hosts', 'headers', 'paths' when 'protocols' is 'ws'",
    "routes[2]: must set one of 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'wss'",
    "routes[3].protocols: these sets are mutually exclusive: ('http', 'https'), ('tcp', 'tls', 'udp'), ('tls_passthrough'), ('grpc', 'grpcs'), ('ws', 'wss')",
    "routes[4].snis: 'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls', 'tls_passthrough' or 'wss'",
  ]);
  assert.deepEqual(load(routes('  - snis: [a.test]\n    protocols: [wss]\n')).snapshot.routes[0].protocols, ['wss']);
});
