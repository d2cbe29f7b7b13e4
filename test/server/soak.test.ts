/**
 * A soak of the server over the real protocol: seeded random incremental edits to several
 * documents (several changes per notification, versions sometimes repeated, requests between
 * edits so that each version's parse and expansion build on the last), and after each burst
 * every document's diagnostics and inlay hints compared with a fresh server's for the same
 * text. Bounded by the number of bursts (a few seconds), not by time.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InlayHint, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { ROOT, startClient, type TestClient } from './client';
import { offsetAt, program, randomChange, rng, type Change } from './programs';

const SEED = 20_251_201;
const BURSTS = 12;
const ALL = { start: { line: 0, character: 0 }, end: { line: 100_000, character: 0 } };

let soak: TestClient;
let fresh: TestClient;

beforeAll(async () => {
  // Plain clients: hints carry their tooltips, so those are compared too.
  [soak, fresh] = await Promise.all([startClient({ editor: 'plain', configuration: { debounceMs: 0 } }), startClient({ editor: 'plain', configuration: { debounceMs: 0 } })]);
});
afterAll(async () => {
  await Promise.all([soak.close(), fresh.close()]);
});

function apply(text: string, change: Change): string {
  return text.slice(0, offsetAt(text, change.range.start)) + change.text + text.slice(offsetAt(text, change.range.end));
}

const hintsOf = (c: TestClient, uri: string) => c.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: ALL });

/** The fresh server's diagnostics and hints for a text, under the same uri (hints link to it). */
async function reference(uri: string, text: string): Promise<{ diagnostics: PublishDiagnosticsParams['diagnostics']; hints: InlayHint[] }> {
  const published = fresh.nextDiagnostics(uri, 1);
  await fresh.open(uri, text, 1);
  const diagnostics = (await published).diagnostics;
  const hints = await hintsOf(fresh, uri);
  await fresh.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  return { diagnostics, hints };
}

describe('server soak', () => {
  it(`agrees with a fresh server after each of ${BURSTS} bursts of random edits to four documents`, async () => {
    const r = rng(SEED);
    const long = ['network Long {', '  input 8x16x16', ...Array.from({ length: 300 }, (_, i) => ['  conv 8 k=3 p=1 bias=false', '  bn; relu', '  Down(8, s=1)'][i % 3]), '}', 'block Down(c, s=2) {', '  conv c k=3 s=s p=1', '}', ''].join('\n');
    const docs = [program(r), program(r), readFileSync(resolve(ROOT, 'examples/resnet18.cnn'), 'utf8'), long].map((text, i) => ({ uri: `file:///soak/doc${i}.cnn`, text, version: 1 }));
    for (const d of docs) {
      const first = soak.nextDiagnostics(d.uri, 1);
      await soak.open(d.uri, d.text);
      await first;
    }
    let changes = 0;
    let repeats = 0;
    let compared = 0;
    for (let burst = 0; burst < BURSTS; burst++) {
      for (const d of docs) {
        const notifications = r.int(1, 5);
        let published: Promise<PublishDiagnosticsParams> | undefined;
        for (let k = 0; k < notifications; k++) {
          const batch: Change[] = [];
          for (let j = r.int(1, 3); j > 0; j--) {
            const { change, text } = randomChange(r, d.text);
            batch.push(change);
            d.text = text;
          }
          const last = k === notifications - 1;
          // Now and then a change that repeats the version; the last of a burst never does,
          // so that its diagnostics can be told apart.
          const repeated = !last && r.next() < 0.3;
          if (!repeated) d.version++;
          if (last) published = soak.nextDiagnostics(d.uri, d.version);
          await soak.change(d.uri, d.version, batch);
          changes += batch.length;
          // After a repeated version the hints must still be of the new text.
          if (repeated && r.next() < 0.6) {
            expect(await hintsOf(soak, d.uri), `repeated version ${d.version}, ${d.uri}, seed ${SEED}, text:\n${d.text}`).toEqual((await reference(d.uri, d.text)).hints);
            repeats++;
          }
          // Requests between edits: the server analyses this version, and the next builds on it.
          if (r.next() < 0.5) {
            const line = r.int(0, d.text.split('\n').length);
            await soak.request('textDocument/inlayHint', { textDocument: { uri: d.uri }, range: { start: { line, character: 0 }, end: { line: line + 5, character: 0 } } });
          }
          if (r.next() < 0.2) await soak.request('textDocument/hover', { textDocument: { uri: d.uri }, position: { line: 2, character: 3 } });
        }
        const diagnostics = (await published!).diagnostics;
        const hints = await hintsOf(soak, d.uri);
        const want = await reference(d.uri, d.text);
        const context = `burst ${burst}, ${d.uri}, seed ${SEED}, text:\n${d.text}`;
        expect(diagnostics, context).toEqual(want.diagnostics);
        expect(hints, context).toEqual(want.hints);
        compared += hints.length + diagnostics.length;
      }
    }
    expect(changes).toBeGreaterThan(100);
    expect(repeats).toBeGreaterThan(5);
    // Not vacuous: the documents kept hints and diagnostics to compare.
    expect(compared).toBeGreaterThan(1000);
    expect(soak.stderr()).toBe('');
    expect(soak.messages.filter((m) => m.method === 'window/logMessage')).toEqual([]);
  });
});
