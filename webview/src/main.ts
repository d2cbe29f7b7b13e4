/**
 * The network panel: graph, table and charts of the active .cnn network; runs on an image and
 * benchmarks on WebGPU or the CPU engine in a worker. Talks to the extension only through the
 * messages of protocol.ts. The state lives in one object (app.ts); each tab is a module of
 * tabs/. This file builds the page around them and routes the extension's messages.
 */
import { App, type VsCodeApi } from './app';
import { h } from './dom';
import type { ToWebview, Tab } from './protocol';
import { nodesAt } from './model';
import { BenchTab } from './tabs/bench';
import { NetworkTab } from './tabs/network';
import { RunTab } from './tabs/run';
import { TrainTab } from './tabs/train';
import * as ui from './ui/toolkit';

declare function acquireVsCodeApi(): VsCodeApi;

const header = h('header', 'bar');
const fileLabel = h('span', 'file', 'No .cnn file yet: open one and run “CNN: Show Network Graph”.');
const engineBadge = h('span', 'engine', 'engine: starting…');
engineBadge.id = 'engine-badge';
const gpuBanner = h('div', 'banner warn');
gpuBanner.id = 'gpu-banner';
gpuBanner.hidden = true;
gpuBanner.setAttribute('role', 'status');

const app = new App(acquireVsCodeApi(), document.body.dataset.media ?? '', document.body.dataset.worker ?? '', document.body.dataset.layout ?? '', () => showProbe());

const netPicker = ui.dropdown([], undefined, (v) => {
  app.state.network = v;
  app.save();
  refresh();
}, { id: 'network-picker', title: 'Network in this file' });
netPicker.hidden = true;
header.append(fileLabel, netPicker, engineBadge);
const banners = h('div', 'banners');
banners.append(gpuBanner, app.messages);

const networkView = h('section', 'view network-view');
const runView = h('section', 'view run-view');
const benchView = h('section', 'view bench-view');
const trainView = h('section', 'view train-view');
const tabs = ui.tabs(
  [
    { id: 'network', label: 'Network', view: networkView },
    { id: 'run', label: 'Run', view: runView },
    { id: 'benchmark', label: 'Benchmark', view: benchView },
    { id: 'train', label: 'Train', view: trainView },
  ],
  app.state.tab,
  (id) => {
    app.state.tab = id as Tab;
    app.save();
  },
);
document.getElementById('app')!.replaceChildren(header, banners, tabs);

window.addEventListener('error', (e) => app.showMessage(`Unexpected error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => app.showMessage(`Unexpected error: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`));

const networkTab = new NetworkTab(app, networkView);
const runTab = new RunTab(app, runView);
const benchTab = new BenchTab(app, benchView);
// The training worker's bundle lies beside the engine's.
const trainTab = new TrainTab(app, trainView, new URL('train-worker.js', document.body.dataset.worker ?? location.href).href);
app.showField = (id) => {
  ui.selectTab(tabs, 'run');
  app.state.tab = 'run';
  runTab.showFieldOf(id);
};
app.addView(networkTab);
app.addView(runTab);
app.addView(benchTab);
app.addView(trainTab);
app.addView({
  refresh() {
    const names = app.networkNames();
    ui.setChoices(netPicker, names.map((n) => ({ value: n, label: n })), app.state.network);
    netPicker.hidden = names.length < 2;
    const name = app.state.fileName ? app.state.fileName.split(/[\\/]/).pop() : undefined;
    if (name) fileLabel.textContent = `${name}${app.net ? ` — ${app.net.graph.network}` : ''}`;
  },
});

function refresh(): void {
  app.refresh();
}

function showProbe(): void {
  const { probe, client } = app.engine;
  if (!probe || !client) return;
  const where = client.mode === 'worker' ? 'in a worker' : `on the page (no worker: ${client.why})`;
  gpuBanner.hidden = probe.status === 'ok';
  gpuBanner.className = `banner ${probe.status === 'software' ? 'info' : 'warn'}`;
  if (probe.status === 'software') {
    gpuBanner.textContent = `WebGPU runs on a software adapter here: ${probe.reason} The CPU engine is the default; WebGPU stays selectable.`;
  } else if (probe.status !== 'ok') {
    gpuBanner.textContent = `No WebGPU: ${probe.reason} Runs and benchmarks use the CPU engine ${where} instead.`;
  }
  runTab.syncBackend();
  benchTab.syncBackend();
  engineBadge.textContent = app.engine.gpuUsable() ? `WebGPU adapter: ${probe.adapter}` : 'CPU engine (no WebGPU)';
  engineBadge.title = `engine ${where}`;
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
  const s = app.state;
  switch (m.type) {
    case 'document': {
      const sameFile = m.uri === s.uri;
      const sameBeside = JSON.stringify([m.weights ?? [], m.labels ?? [], m.trained ?? []]) === JSON.stringify([s.beside ?? [], s.labels ?? [], s.besideTrained ?? []]);
      if (sameFile && m.text === s.text && sameBeside && app.net) return;
      s.uri = m.uri;
      s.fileName = m.fileName;
      s.text = m.text;
      s.labels = m.labels;
      s.beside = m.weights;
      s.besideTrained = m.trained;
      s.example = m.example;
      if (!sameFile) app.reset();
      refresh();
      break;
    }
    case 'cursor':
      if (m.uri !== s.uri || !app.net) return;
      app.highlight = new Set(nodesAt(app.net.graph.nodes, m.line, m.character));
      app.markAll(true);
      break;
    case 'image':
      if (m.run) {
        ui.selectTab(tabs, 'run');
        s.tab = 'run';
      }
      runTab.imagePicked(m.file);
      break;
    case 'weights':
      s.weights[`${s.uri}#${m.network}`] = m.file;
      app.save();
      if (m.network === app.net?.graph.network) runTab.weightsPicked();
      break;
    case 'command':
      if (m.network && m.network !== s.network && app.analysis?.networks.some((n) => n.graph.network === m.network)) {
        s.network = m.network;
        refresh();
      }
      s.tab = m.command === 'show' ? 'network' : m.command;
      ui.selectTab(tabs, s.tab);
      app.save();
      if (m.command === 'run') void runTab.run();
      if (m.command === 'benchmark') void benchTab.bench();
      break;
    case 'notice':
      app.showMessage(m.message, 'info');
      break;
    case 'trainData':
    case 'trainFolder':
    case 'trained':
      trainTab.receive(m);
      break;
  }
});

// A restored panel draws from its saved text at once; the extension sends the live document next.
refresh();
void runTab.samplesReady.then(() => runTab.showImage());
app.post({ type: 'ready' });
