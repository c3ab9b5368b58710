/**
 * The playground page (`advtest serve`): the browser build of advtest on a model and a few images,
 * with the harness's own functions — runAttack for the pictures, evaluate for the curve and the
 * report JSON, quantize8WithinBudget for the PNGs — so that what the page shows is what the CLI
 * would compute on the same backend.
 */
import * as tf from '@tensorflow/tfjs';
import {
  cellSeed,
  datasetFromImages,
  evaluate,
  imageToTensor,
  initBackend,
  loadModel,
  makeAttack,
  quantize8WithinBudget,
  runAttack,
  toRgba,
  UserError,
  type Attack,
  type BrowserBackend,
  type Classifier,
  type Report,
} from '../src/browser.js';

/** ε of the live curve (?grid=0.1,0.3 to choose); the slider's ε is added to the downloaded report. */
const GRID = parseGrid(new URLSearchParams(location.search).get('grid')) ?? [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3];

function parseGrid(text: string | null): number[] | undefined {
  if (text === null) return undefined;
  const values = text.split(',').map(Number);
  if (values.length === 0 || values.some((v) => !(Number.isFinite(v) && v >= 0 && v <= 1))) {
    throw new UserError(`?grid=${text}: give ε values from 0 to 1 separated by commas, e.g. ?grid=0.1,0.2,0.3`);
  }
  return [...new Set(values)].sort((a, b) => a - b);
}
const TOP_K = 3;

interface Example {
  name: string;
  /** The file name's labelK, else the model's clean prediction (then "fooled" means "changed"). */
  label: number;
  labelFrom: 'file name' | 'clean prediction';
  x: tf.Tensor4D;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusEl = $('status');
let model: Classifier | undefined;
let examples: Example[] = [];
let queue: Promise<void> = Promise.resolve();
let lastReport: Report | undefined;

function setStatus(text: string, error = false): void {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', error);
}

/** Runs jobs one at a time; the page's state says busy/ready/error, which the browser test waits on. */
function enqueue(job: () => Promise<void>): Promise<void> {
  document.body.dataset.state = 'busy';
  queue = queue
    .then(job)
    .then(() => {
      document.body.dataset.state = 'ready';
    })
    .catch((err: unknown) => {
      document.body.dataset.state = 'error';
      // A UserError says what to change; anything else is a bug worth the console.
      if (!(err instanceof UserError)) console.error(err);
      setStatus(err instanceof Error ? err.message : String(err), true);
    });
  return queue;
}

const eps = () => Number(($('eps') as HTMLInputElement).value);
const seed = () => Number(($('seed') as HTMLInputElement).value) || 0;
const attack = (): Attack => {
  const name = ($('attack') as HTMLSelectElement).value;
  return makeAttack(name, name === 'pgd' ? { steps: 10 } : {});
};
const className = (k: number) => model?.classNames?.[k] ?? String(k);

async function useBackend(): Promise<void> {
  const name = ($('backend') as HTMLSelectElement).value as BrowserBackend;
  const info = await initBackend(name, { wasmPaths: new URL('./', location.href).href });
  document.body.dataset.backend = info.name;
  // Weights live on a backend: load the model again on the new one.
  await loadChosenModel();
}

async function loadChosenModel(files?: File[]): Promise<void> {
  model?.dispose?.();
  model = undefined;
  model = await loadModel(files ?? new URL('model/model.json', location.href).href);
  if (examples.length === 0) await useDigits();
  else examples = await Promise.all(examples.map(async (e) => ({ ...e, x: e.x })));
}

async function predict(x: tf.Tensor4D): Promise<Int32Array> {
  const logits = model!.logits(x);
  const p = tf.argMax(logits, 1);
  const out = (await p.data()) as Int32Array;
  tf.dispose([logits, p]);
  return out;
}

function replaceExamples(next: Example[]): void {
  tf.dispose(examples.map((e) => e.x));
  examples = next;
}

async function useDigits(): Promise<void> {
  const list = (await (await fetch('digits.json')).json()) as { name: string; label: number }[];
  const loaded = await Promise.all(
    list.map(async ({ name, label }) => {
      const img = new Image();
      img.src = `digits/${name}`;
      await img.decode();
      return { name, label, labelFrom: 'file name' as const, x: imageToTensor(img, model!.inputShape) };
    }),
  );
  replaceExamples(loaded);
}

async function useFiles(files: File[]): Promise<void> {
  const images = files.filter((f) => f.type.startsWith('image/'));
  if (images.length === 0) throw new UserError(`${files.map((f) => f.name).join(', ')}: no image among them; drop PNG or JPEG files`);
  const loaded: Example[] = [];
  for (const f of images) {
    const bitmap = await createImageBitmap(f);
    const x = imageToTensor(bitmap, model!.inputShape, { resize: true });
    bitmap.close();
    const fromName = /label(\d+)\./.exec(f.name);
    const label = fromName && Number(fromName[1]) < model!.numClasses ? Number(fromName[1]) : (await predict(x))[0]!;
    loaded.push({ name: f.name, label, labelFrom: fromName ? 'file name' : 'clean prediction', x });
  }
  replaceExamples(loaded);
}

function draw(canvas: HTMLCanvasElement, rgba: { data: Uint8ClampedArray; width: number; height: number }): void {
  canvas.width = rgba.width;
  canvas.height = rgba.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba.data), rgba.width, rgba.height), 0, 0);
}

function topK(probs: Float32Array | Int32Array | Uint8Array, row: number, k: number): { cls: number; p: number }[] {
  const n = model!.numClasses;
  const ps = Array.from({ length: n }, (_, c) => ({ cls: c, p: probs[row * n + c]! }));
  return ps.sort((a, b) => b.p - a.p).slice(0, k);
}

function list(title: string, items: { cls: number; p: number }[]): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = `<b>${title}</b>`;
  const ol = document.createElement('ol');
  for (const { cls, p } of items) {
    const li = document.createElement('li');
    li.textContent = `${className(cls)} ${(100 * p).toFixed(1)}%`;
    ol.append(li);
  }
  div.append(ol);
  return div;
}

/** The attacked pictures at the slider's ε: clean, adversarial (8-bit, within ε), perturbation ×N, top-k. */
async function runExamples(): Promise<void> {
  if (!model || examples.length === 0) return;
  const a = attack();
  const e = eps();
  const amplify = Number(($('amplify') as HTMLSelectElement).value);
  setStatus(`${a.name} at ε = ${e.toFixed(3)} on ${examples.length} image(s)…`);
  const x = tf.concat(examples.map((ex) => ex.x));
  const labels = tf.tensor1d(examples.map((ex) => ex.label), 'int32');
  const { adv } = await runAttack(model, a, x, { labels, targeted: false }, e, cellSeed(seed(), a, e), Int32Array.from(examples.keys()));
  const q = quantize8WithinBudget(adv, x, model.bounds);
  const [before, after] = tf.tidy(() => [tf.softmax(model!.logits(x)), tf.softmax(model!.logits(q))]);
  const pb = await before!.data();
  const pa = await after!.data();
  const container = $('examples');
  container.replaceChildren();
  let fooled = 0;
  for (let i = 0; i < examples.length; i++) {
    const ex = examples[i]!;
    const [xi, qi, di] = tf.tidy(() => {
      const xi = tf.slice(x, [i], [1]) as tf.Tensor4D;
      const qi = tf.slice(q, [i], [1]) as tf.Tensor4D;
      return [xi, qi, tf.clipByValue(tf.add(0.5, tf.mul(tf.sub(qi, xi), amplify)), 0, 1) as tf.Tensor4D];
    });
    const card = document.createElement('div');
    card.className = 'example';
    const images = document.createElement('div');
    images.className = 'images';
    const pngName = `${ex.name.replace(/\.[^.]+$/, '')}-${a.name}-eps${e.toFixed(4)}.png`;
    for (const [t, caption] of [[xi, 'clean'], [qi, 'adversarial'], [di, `perturbation ×${amplify}`]] as const) {
      const fig = document.createElement('figure');
      const canvas = document.createElement('canvas');
      canvas.className = caption.split(' ')[0]!;
      draw(canvas, await toRgba(t!));
      fig.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: caption }));
      images.append(fig);
    }
    const pngCanvas = images.querySelector('canvas.adversarial') as HTMLCanvasElement;
    const link = Object.assign(document.createElement('a'), { textContent: 'download PNG', download: pngName, className: 'download-png', href: '#' });
    link.addEventListener('click', (ev) => {
      // A PNG of the canvas holds exactly the 8-bit levels quantize8WithinBudget chose.
      ev.preventDefault();
      pngCanvas.toBlob((blob) => {
        const a2 = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob!), download: pngName });
        a2.click();
        setTimeout(() => URL.revokeObjectURL(a2.href), 10_000);
      }, 'image/png');
    });
    tf.dispose([xi, qi, di]);
    const b = topK(pb, i, TOP_K);
    const f = topK(pa, i, TOP_K);
    if (f[0]!.cls !== ex.label) fooled++;
    card.classList.toggle('fooled', f[0]!.cls !== ex.label);
    const title = document.createElement('div');
    title.textContent = `${ex.name} — ${ex.labelFrom === 'file name' ? 'label' : 'clean prediction'} ${className(ex.label)}: ${className(b[0]!.cls)} → ${className(f[0]!.cls)}`;
    const tk = document.createElement('div');
    tk.className = 'topk';
    tk.append(list('before', b), list('after', f));
    card.append(title, images, tk, link);
    container.append(card);
  }
  tf.dispose([x, labels, adv, q, before!, after!]);
  setStatus(`${a.name}, ε = ${e.toFixed(3)} (${Math.round(e * 255)}/255): ${fooled} of ${examples.length} image(s) misclassified after the attack (8-bit images) · backend ${tf.getBackend()}`);
}

function dataset() {
  const x = tf.concat(examples.map((e) => e.x));
  try {
    return datasetFromImages('playground', x, examples.map((e) => e.label), Array.from({ length: model!.numClasses }, (_, k) => className(k)), examples.map((e) => e.name));
  } finally {
    x.dispose();
  }
}

/** The robustness curve over GRID, with evaluate() — the numbers a report of the same run holds. */
async function runCurve(): Promise<void> {
  if (!model || examples.length === 0) return;
  const report = await evaluate(model, dataset(), [attack()], GRID, { seed: seed(), probes: false, batchSize: examples.length });
  lastReport = report;
  const rows = report.results.map((r) => ({ eps: r.eps, acc: r.accuracy, q: r.quantized.accuracy }));
  const points = [{ eps: 0, acc: report.clean.accuracy, q: report.clean.accuracy }, ...rows.filter((r) => r.eps > 0)];
  $('curve-table').querySelector('tbody')!.replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.eps = String(r.eps);
      tr.dataset.accuracy = String(r.acc);
      tr.innerHTML = `<td>${r.eps.toFixed(2)}</td><td>${(100 * r.acc).toFixed(1)}%</td><td>${(100 * r.q).toFixed(1)}%</td>`;
      return tr;
    }),
  );
  const svg = $('curve') as unknown as SVGSVGElement;
  const [w, h, m] = [420, 220, 34];
  const px = (v: number) => m + (v / GRID[GRID.length - 1]!) * (w - 2 * m);
  const py = (v: number) => h - m - v * (h - 2 * m);
  const path = points.map((p, i) => `${i ? 'L' : 'M'}${px(p.eps).toFixed(1)},${py(p.acc).toFixed(1)}`).join('');
  const ticks = GRID.map((g) => `<text x="${px(g)}" y="${h - m + 14}" font-size="10" text-anchor="middle">${g}</text>`).join('');
  svg.innerHTML =
    `<line x1="${m}" y1="${py(0)}" x2="${w - m}" y2="${py(0)}" stroke="#999"/><line x1="${m}" y1="${py(0)}" x2="${m}" y2="${py(1)}" stroke="#999"/>` +
    `<text x="${m - 4}" y="${py(1) + 4}" font-size="10" text-anchor="end">100%</text><text x="${m - 4}" y="${py(0) + 4}" font-size="10" text-anchor="end">0%</text>${ticks}` +
    `<text x="${w / 2}" y="${h - 4}" font-size="11" text-anchor="middle">ε (${report.results[0]!.attack}, ${report.backend.name})</text>` +
    `<line x1="${px(Math.min(eps(), GRID[GRID.length - 1]!))}" y1="${py(0)}" x2="${px(Math.min(eps(), GRID[GRID.length - 1]!))}" y2="${py(1)}" stroke="#c33" stroke-dasharray="3 3"/>` +
    `<path d="${path}" fill="none" stroke="#36c" stroke-width="2"/>` +
    points.map((p) => `<circle cx="${px(p.eps)}" cy="${py(p.acc)}" r="3" fill="#36c"/>`).join('');
}

async function downloadReport(): Promise<void> {
  if (!model || examples.length === 0) return;
  const grid = [...new Set([...GRID, eps()])].sort((a, b) => a - b);
  const report = await evaluate(model, dataset(), [attack()], grid, { seed: seed(), probes: false, batchSize: examples.length });
  const a = Object.assign(document.createElement('a'), {
    href: URL.createObjectURL(new Blob([JSON.stringify(report, null, 2) + '\n'], { type: 'application/json' })),
    download: `advtest-report-${report.results[0]!.attack}-${report.backend.name}.json`,
  });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

const refreshAll = () => enqueue(async () => {
  await runCurve();
  await runExamples();
});

$('eps').addEventListener('input', () => {
  $('eps-value').textContent = eps().toFixed(3);
});
$('eps').addEventListener('change', () => void enqueue(async () => {
  await runExamples();
  await runCurve();
}));
for (const id of ['attack', 'seed']) $(id).addEventListener('change', () => void refreshAll());
$('amplify').addEventListener('change', () => void enqueue(runExamples));
$('backend').addEventListener('change', () => void enqueue(async () => {
  await useBackend();
}).then(refreshAll));
$('model-source').addEventListener('change', () => {
  if (($('model-source') as HTMLSelectElement).value === 'files') ($('model-files') as HTMLInputElement).click();
  else void enqueue(() => loadChosenModel()).then(refreshAll);
});
$('model-files').addEventListener('change', () => {
  const files = [...(($('model-files') as HTMLInputElement).files ?? [])];
  void enqueue(() => loadChosenModel(files)).then(refreshAll);
});
$('use-digits').addEventListener('click', () => void enqueue(useDigits).then(refreshAll));
$('image-files').addEventListener('change', () => {
  const files = [...(($('image-files') as HTMLInputElement).files ?? [])];
  void enqueue(() => useFiles(files)).then(refreshAll);
});
const drop = $('drop');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const files = [...(ev.dataTransfer?.files ?? [])];
  void enqueue(() => useFiles(files)).then(refreshAll);
});
$('download-report').addEventListener('click', () => void enqueue(downloadReport));

/** For scripts and the browser test: the last curve's report. */
(window as unknown as { advtestPlayground: { report: () => Report | undefined } }).advtestPlayground = { report: () => lastReport };

// ?backend=wasm&attack=pgd: a link that opens the page on a backend and attack.
const params = new URLSearchParams(location.search);
for (const id of ['backend', 'attack']) {
  const select = $(id) as HTMLSelectElement;
  const asked = params.get(id);
  if (asked !== null && [...select.options].some((o) => o.value === asked)) select.value = asked;
}
void enqueue(useBackend).then(refreshAll);
