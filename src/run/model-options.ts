import { UserError } from '../errors.js';
import { httpModel } from '../model/http-model.js';
import { checkLabelCount } from '../model/finish.js';
import { readLabelsFile } from '../model/labels.js';
import { withPreprocessing, type Preprocessing } from '../model/preprocessing.js';
import { loadModel } from '../model/store.js';
import type { Bounds, Classifier, ImageShape } from '../types.js';
import { parsePositiveInt } from '../parse.js';

export interface ModelCliOptions {
  model: string;
  inputShape?: string;
  classes?: string;
  outputs?: 'logits' | 'probabilities';
  concurrency?: string;
  /** What the model expects of [0, 1] pixels (overrides its metadata). */
  inputRange?: string;
  mean?: string;
  std?: string;
  channelOrder?: string;
  /** Class names file (txt, one per line, or JSON). */
  labels?: string;
}

/**
 * The model options of a parsed command, and only those: what a worker thread needs to load the
 * same classifier (preprocessing and labels included).
 */
export function modelCliOptions(o: ModelCliOptions): ModelCliOptions {
  const keys = ['model', 'inputShape', 'classes', 'outputs', 'concurrency', 'inputRange', 'mean', 'std', 'channelOrder', 'labels'] as const;
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as unknown as ModelCliOptions;
}

const RANGE_EXAMPLES = 'e.g. --input-range 0,1 or -1,1 or 0,255';

/** "lo,hi" with lo < hi. */
export function parseInputRange(text: string): Bounds {
  const parts = text.split(',').map((p) => p.trim());
  const numbers = parts.map((p) => (/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(p) ? Number(p) : NaN));
  if (numbers.length !== 2 || numbers.some((n) => !Number.isFinite(n))) throw new UserError(`--input-range "${text}" is not a range: give lower,upper, ${RANGE_EXAMPLES}`);
  const [lower, upper] = numbers as [number, number];
  if (!(lower < upper)) throw new UserError(`--input-range "${text}": lower must be below upper, ${RANGE_EXAMPLES}`);
  return { lower, upper };
}

/** "a,b,c" → numbers (the channel count is checked against the model once it is loaded). */
function parseChannelValues(text: string, option: '--mean' | '--std'): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const numbers = parts.map((p) => (/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(p) ? Number(p) : NaN));
  if (numbers.some((n) => !Number.isFinite(n))) throw new UserError(`${option} "${text}" is not a list of numbers: give one value per channel, e.g. ${option} ${option === '--mean' ? '0.485,0.456,0.406' : '0.229,0.224,0.225'}`);
  if (option === '--std' && numbers.some((n) => n <= 0)) throw new UserError(`--std "${text}" has a value ≤ 0: standard deviations must be positive`);
  return numbers;
}

/** The preprocessing the command line asks for (fields not given are left to the model's metadata). */
export function preprocessingFromCli(o: ModelCliOptions): Preprocessing {
  const p: Preprocessing = {};
  if (o.inputRange !== undefined) p.range = parseInputRange(o.inputRange);
  if (o.mean !== undefined) p.mean = parseChannelValues(o.mean, '--mean');
  if (o.std !== undefined) p.std = parseChannelValues(o.std, '--std');
  if (o.channelOrder !== undefined) {
    const order = o.channelOrder.trim().toLowerCase();
    if (order !== 'rgb' && order !== 'bgr') throw new UserError(`--channel-order "${o.channelOrder}": give rgb or bgr`);
    p.channelOrder = order;
  }
  return p;
}

function parseShape(text: string | undefined): ImageShape {
  const parts = (text ?? '').split(',').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p <= 0)) {
    throw new UserError(`--input-shape "${text ?? ''}": an HTTP model needs its input shape as height,width,channels, e.g. --input-shape 28,28,1`);
  }
  return parts as ImageShape;
}

export async function loadClassifier(o: ModelCliOptions): Promise<Classifier> {
  // Options are read before the model, so that a typo costs no loading time.
  const preprocessing = preprocessingFromCli(o);
  const labels = o.labels !== undefined ? await readLabelsFile(o.labels) : undefined;
  if (/^https?:\/\//.test(o.model)) {
    if (o.classes === undefined) throw new UserError('--classes is required with an HTTP model, e.g. --classes 10');
    const remote = httpModel({
      url: o.model,
      inputShape: parseShape(o.inputShape),
      numClasses: parsePositiveInt(o.classes, '--classes'),
      outputs: o.outputs ?? 'logits',
      concurrency: parsePositiveInt(o.concurrency ?? '4', '--concurrency'),
    });
    if (labels) checkLabelCount(labels, remote.numClasses, '--labels');
    const wrapped = withPreprocessing(remote, preprocessing, 'cli');
    return labels ? { ...wrapped, classNames: labels } : wrapped;
  }
  return loadModel(o.model, { preprocessing, ...(labels ? { labels } : {}), source: 'cli' });
}
