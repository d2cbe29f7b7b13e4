/**
 * The Run tab's "effective" toggle: the effective receptive field of the feature layer's centre
 * unit (src/engine/train/erf.ts, computed in the engine worker with the weights the Weights
 * picker chose), drawn as a heat map on the input with the theoretical field outlined on top, a
 * colour scale with the map's largest value, and a caption of what was averaged and with which
 * weights. Switching the Weights picker between seeded and trained weights is the "before and
 * after training" comparison.
 */
import type { App } from './app';
import { h } from './dom';
import type { ErfMapResult } from './engine/messages';
import type { Pending } from './engine/client';
import { layerName } from './model';
import type { WeightsSource } from './protocol';
import { fieldGeometry, fieldView, fmt, heatImage, heatLegend } from './rf-view';
import * as ui from './ui/toolkit';

function hash(s: string): string {
  let x = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return x.toString(16);
}

/** What the map averages over: `noise:N` (N seeded standard-normal inputs) or the last run's image. */
const SOURCES = [
  { value: 'noise:4', label: '4 noise inputs' },
  { value: 'noise:16', label: '16 noise inputs' },
  { value: 'image', label: "the run's image" },
];

const WHERE: Record<Exclude<WeightsSource, 'seeded'>, string> = { beside: 'beside the file', trained: 'trained in the Train tab', picked: 'picked' };

export class ErfPanel {
  /** The toggle and the inputs' choice, for the Run tab to place. */
  readonly controls = h('div', 'erf-controls');
  readonly figure = h('figure', 'erf');
  private readonly status = h('span', 'status');
  private readonly sourcePicker: HTMLSelectElement;
  private on = false;
  private source = SOURCES[0].value;
  /** What the figure shows now, and what is being computed. */
  private shown = '';
  private wanted = '';
  private pending: Pending<ErfMapResult> | undefined;
  private readonly runIds = new WeakMap<object, number>();
  private runs = 0;

  constructor(
    private readonly app: App,
    /** The last run of the current network (its image is the input for the 'image' source). */
    private readonly lastRun: () => object | undefined,
  ) {
    const toggle = ui.checkbox('effective', false, (v) => {
      this.on = v;
      this.update();
    }, { id: 'erf-toggle', title: 'Effective receptive field: |∂ centre unit / ∂ input| averaged over inputs, with the current weights' });
    this.sourcePicker = ui.dropdown(SOURCES, this.source, (v) => {
      this.source = v;
      this.update();
    }, { id: 'erf-inputs', title: 'Inputs the effective receptive field averages over' });
    this.status.id = 'erf-status';
    this.status.setAttribute('role', 'status');
    this.figure.id = 'erf';
    this.figure.hidden = true;
    ui.setDisabled(this.sourcePicker, true);
    this.controls.append(toggle, this.sourcePicker, this.status);
  }

  /** Forgets the map of another network. */
  clear(): void {
    this.pending?.cancel();
    this.pending = undefined;
    this.shown = '';
    this.wanted = '';
    this.figure.replaceChildren();
    this.status.replaceChildren();
    this.status.className = 'status';
  }

  private note(text: string): void {
    this.pending?.cancel();
    this.pending = undefined;
    this.wanted = '';
    this.shown = '';
    this.figure.hidden = false;
    this.figure.replaceChildren(h('p', 'note', text));
    this.status.replaceChildren();
  }

  /** Shows the map of the feature layer's centre unit, computing it if what it depends on changed. */
  update(): void {
    ui.setDisabled(this.sourcePicker, !this.on);
    if (!this.on) {
      this.clear();
      this.figure.hidden = true;
      return;
    }
    const app = this.app;
    const net = app.net;
    const node = app.nodeByPath(app.state.featureLayer);
    if (!net || node === undefined) return this.note('Pick a layer to see its effective receptive field.');
    const input = net.input;
    const shape = net.layers[node].shape;
    const name = layerName(net.graph.nodes[node]);
    if (!input || input.length !== 3) return this.note('The effective receptive field needs a C×H×W input.');
    if (!shape || shape.length !== 3) return this.note(`${name}: a flat output has no spatial centre, so no effective receptive field: pick a layer with a C×H×W output.`);
    const run = this.lastRun();
    if (this.source === 'image' && !run) return this.note("Run the network on an image first: the map then averages over that image's gradient.");
    if (run && !this.runIds.has(run)) this.runIds.set(run, ++this.runs);
    const weights = app.weightsChoice();
    const key = [app.netKey(), hash(app.state.text ?? ''), weights.file?.uri ?? 'seeded', node, this.source, this.source === 'image' ? this.runIds.get(run!) : ''].join('|');
    if (key === this.shown || key === this.wanted) return;
    this.pending?.cancel();
    this.wanted = key;
    void this.compute(key, node, weights);
  }

  private async compute(key: string, node: number, weights: ReturnType<App['weightsChoice']>): Promise<void> {
    const app = this.app;
    this.status.className = 'status busy';
    this.status.replaceChildren(ui.spinner(), h('span', undefined, ' computing the effective receptive field…'));
    const [source, n] = this.source.split(':');
    try {
      const e = await app.loadEngine();
      if (this.wanted !== key) return;
      const p = e.request<ErfMapResult>({ op: 'erf', node, source: source === 'image' ? 'image' : 'noise', count: Number(n ?? 1), seed: 0 }, (pr) => {
        if (this.wanted === key) this.status.lastElementChild!.textContent = ` ${pr.label}…`;
      });
      this.pending = p;
      const r = await p.promise;
      if (this.wanted !== key) return;
      this.pending = undefined;
      this.wanted = '';
      this.shown = key;
      this.draw(r, weights);
      this.status.className = 'status ok';
      this.status.textContent = `computed in ${(r.ms / 1000).toFixed(1)} s`;
    } catch (err) {
      if (this.wanted !== key) return;
      this.pending = undefined;
      this.wanted = '';
      this.status.className = 'status error';
      this.status.textContent = `No effective receptive field: ${(err as Error).message}`;
    }
  }

  private draw(r: ErfMapResult, weights: ReturnType<App['weightsChoice']>): void {
    const net = this.app.net!;
    const info = net.layers[r.node];
    const [, Ho, Wo] = r.layerShape;
    const [ci, cj] = r.centre;
    const [Cin, H, W] = net.input!;
    const field = info.rf ? fieldGeometry(info.rf, [H, W], [Ho, Wo], ci, cj) : undefined;
    const svg = fieldView({ H, W, image: heatImage(r.map, r.height, r.width, r.max), field, heat: true });
    const name = layerName(net.graph.nodes[r.node]);
    const which = r.channel === 'all' ? `the sum of its ${r.layerShape[0]} channels` : `channel ${r.channel}`;
    const over = r.source === 'image' ? "the run's image (as the network saw it)" : `${r.inputs} standard-normal noise input${r.inputs > 1 ? 's' : ''} (seed 0)`;
    const used = weights.source === 'seeded' ? 'seeded weights (He normal, seed 0: the network before training)' : `weights ${weights.file!.name} (${WHERE[weights.source]})`;
    const rect = info.rf ? ` Outlined: the theoretical field of that unit, ${fmt(info.rf.size[0])}×${fmt(info.rf.size[1])}.` : '';
    const caption = h(
      'figcaption',
      undefined,
      `Effective receptive field of ${name}, centre unit (${ci}, ${cj}), ${which}: mean |∂y/∂x| over ${over} and the ${Cin} input channel${Cin > 1 ? 's' : ''}, with ${used}.${rect}`,
    );
    caption.id = 'erf-caption';
    this.figure.hidden = false;
    this.figure.dataset.node = String(r.node);
    this.figure.dataset.unit = `${ci},${cj}`;
    this.figure.dataset.max = String(r.max);
    this.figure.dataset.inputs = String(r.inputs);
    this.figure.dataset.weights = weights.source;
    this.figure.replaceChildren(svg, heatLegend(r.max, '|∂y/∂x|'), caption);
  }
}
