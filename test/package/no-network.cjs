// Preloaded with `node --require` (through NODE_OPTIONS) by install.test.ts: every outgoing
// connection, DNS lookup or fetch is written to $CNN_NET_LOG and then refused, so a script that
// tries to download shows up in the log instead of hanging on a machine without the internet.
'use strict';
const fs = require('node:fs');

const log = process.env.CNN_NET_LOG;
function refuse(what) {
  if (log) fs.appendFileSync(log, `${process.pid} ${what}\n`);
  throw new Error(`network access refused by the test: ${what}`);
}
const target = (a) => {
  const o = a[0];
  if (typeof o === 'string' || o instanceof URL) return String(o);
  if (o && typeof o === 'object') return `${o.host ?? o.hostname ?? o.path ?? '?'}:${o.port ?? ''}`;
  return String(o);
};

const net = require('node:net');
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...a) {
  // Local IPC (a path) is npm's own business, not a download.
  const o = a[0];
  const isPath = (o && typeof o === 'object' && typeof o.path === 'string' && o.port == null) || (typeof o === 'string' && Number.isNaN(Number(o)));
  if (!isPath) refuse(`connect ${target(a)}`);
  return connect.apply(this, a);
};
for (const mod of ['node:http', 'node:https']) {
  const m = require(mod);
  for (const k of ['request', 'get']) {
    const orig = m[k];
    m[k] = function (...a) {
      refuse(`${mod.slice(5)}.${k} ${target(a)}`);
      return orig.apply(this, a);
    };
  }
}
const dns = require('node:dns');
for (const k of ['lookup', 'resolve', 'resolve4', 'resolve6']) {
  dns[k] = (...a) => refuse(`dns.${k} ${a[0]}`);
  dns.promises[k] = async (...a) => refuse(`dns.promises.${k} ${a[0]}`);
}
if (typeof globalThis.fetch === 'function') globalThis.fetch = async (u) => refuse(`fetch ${u}`);
