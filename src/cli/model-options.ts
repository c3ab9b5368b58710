import { Option, type Command } from 'commander';
import { UserError } from '../errors.js';
import { httpModel } from '../model/http-model.js';
import { loadModel } from '../model/store.js';
import type { Classifier, ImageShape } from '../types.js';
import { parsePositiveInt } from './parse.js';

export interface ModelCliOptions {
  model: string;
  inputShape?: string;
  classes?: string;
  outputs?: 'logits' | 'probabilities';
  concurrency?: string;
}

/** --model DIR, or an HTTP endpoint with what advtest cannot read from it. */
export function withModelOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--model <dir|url>', 'folder with model.json (LayersModel or GraphModel), or an http(s) endpoint answering {"predictions"}')
    .option('--input-shape <h,w,c>', 'input shape of an HTTP model, e.g. 28,28,1')
    .option('--classes <n>', 'number of classes of an HTTP model')
    .addOption(new Option('--outputs <kind>', 'what an HTTP model returns').choices(['logits', 'probabilities']).default('logits'))
    .option('--concurrency <n>', 'requests in flight to an HTTP model', '4');
}

function parseShape(text: string | undefined): ImageShape {
  const parts = (text ?? '').split(',').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p <= 0)) {
    throw new UserError(`--input-shape "${text ?? ''}": an HTTP model needs its input shape as height,width,channels, e.g. --input-shape 28,28,1`);
  }
  return parts as ImageShape;
}

export async function loadClassifier(o: ModelCliOptions): Promise<Classifier> {
  if (/^https?:\/\//.test(o.model)) {
    if (o.classes === undefined) throw new UserError('--classes is required with an HTTP model, e.g. --classes 10');
    return httpModel({
      url: o.model,
      inputShape: parseShape(o.inputShape),
      numClasses: parsePositiveInt(o.classes, '--classes'),
      outputs: o.outputs ?? 'logits',
      concurrency: parsePositiveInt(o.concurrency ?? '4', '--concurrency'),
    });
  }
  return loadModel(o.model);
}
