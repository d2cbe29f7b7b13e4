// `npm start`: builds; where a VS Code (`code`) is on PATH, packages the .vsix and installs it
// there; then shows the main job in the terminal on the embedded default — the analysis of an
// example network, the check of every example, and a forward pass of the trained example.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const node = process.execPath;
const step = (title, args) => {
  console.log(`\n$ cnn ${args.join(' ')}    # ${title}`);
  try {
    execFileSync(node, ['bin/cnn.js', ...args], { stdio: 'inherit' });
  } catch {
    // the command printed its own message; a warning-free example still exits 0
  }
};

execFileSync(node, ['scripts/build.mjs'], { stdio: 'inherit' });
if (spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0) {
  const vsix = 'cnn-designer.vsix';
  execFileSync(node, ['scripts/package.mjs', '--out', vsix], { stdio: 'inherit' });
  execFileSync('code', ['--install-extension', vsix, '--force'], { stdio: 'inherit' });
  console.log(`Installed ${vsix} into VS Code: open a .cnn file (File > Open, or "CNN: Open Example…").`);
} else {
  console.log('No VS Code (`code`) on PATH: showing the main job in the terminal.');
}
step('per-layer table and totals', ['analyze', 'examples/resnet18.cnn']);
step("the lecture's AlexNet", ['analyze', 'examples/alexnet.cnn']);
step('diagnostics for every example', ['check', ...readdirSync('examples').filter((f) => f.endsWith('.cnn')).map((f) => `examples/${f}`)]);
const fashion = 'examples/fashion-mnist';
const { commands } = await import('../dist/cli.cjs').then((m) => m.default ?? m);
if (commands?.run && existsSync(`${fashion}/fashion.cnn`)) {
  const image = readdirSync(`${fashion}/images`).filter((f) => f.endsWith('.png')).sort()[0];
  step('a forward pass of the trained Fashion-MNIST example', [
    'run', `${fashion}/fashion.cnn`, '--weights', `${fashion}/fashion.safetensors`, '--input', `${fashion}/images/${image}`, '--labels', `${fashion}/labels.txt`, '--top', '3',
  ]);
}
