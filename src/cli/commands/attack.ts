import path from 'node:path';
import { Command } from 'commander';
import { makeAttack } from '../../../attacks/index.js';
import { attackOptionsFrom, withAttackOptions, type AttackCliOptions } from '../attack-options.js';
import { decodeImage } from '../../data/image-codec.js';
import { labelFromFileName } from '../../data/file-names.js';
import { UserError } from '../../errors.js';
import { attackImages, type ImageInput } from '../../harness/attack-images.js';
import { parseTargetSpec } from '../../harness/targets.js';
import { loadClassifier, withModelOptions, type ModelCliOptions } from '../model-options.js';
import { formatEps } from '../../report/text.js';
import { setup, withCommonOptions, type CommonOptions } from '../common.js';
import { checkEpsAgainstRange, parseEps } from '../parse.js';
import { logLine } from '../progress.js';

interface AttackOptions extends CommonOptions, AttackCliOptions, ModelCliOptions {
  images: string[];
  eps: string;
  out: string;
  targeted?: string;
  json?: boolean;
}

export function attackCommand(): Command {
  const cmd = new Command('attack')
    .description('adversarial examples from image files, written as lossless PNGs with a manifest')
    .requiredOption('--images <files...>', 'images sharp can read; a "label<k>" in the name gives the true class')
    .option('--eps <value>', 'budget, e.g. 0.1 or 8/255', '8/255')
    .option('--out <dir>', 'output folder', 'adv')
    .option('--targeted <spec>', 'least-likely | random | a class index')
    .option('--json', 'print the manifest as JSON instead of a summary');
  return withCommonOptions(withAttackOptions(withModelOptions(cmd))).action(async (opts: AttackOptions) => {
    const { seed, quiet } = await setup(opts);
    const eps = parseEps(opts.eps);
    const attack = makeAttack(opts.attack, attackOptionsFrom(opts));
    const model = await loadClassifier(opts);
    try {
      checkEpsAgainstRange([eps], model.bounds.upper - model.bounds.lower);
      if (model.bounds.lower !== 0 || model.bounds.upper !== 1) {
        throw new UserError(`the model's input range is [${model.bounds.lower}, ${model.bounds.upper}]; image files decode to [0, 1]: use a model that takes [0, 1] inputs`);
      }
      const inputs: ImageInput[] = [];
      for (const file of opts.images) {
        inputs.push({ source: file, pixels: await decodeImage(file, model.inputShape), label: labelFromFileName(file) });
      }
      const manifest = await attackImages(model, inputs, { attack, eps, outDir: opts.out, seed, target: parseTargetSpec(opts.targeted, model.numClasses) });
      if (opts.json) {
        process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
        return;
      }
      for (const e of manifest.images) {
        process.stdout.write(
          `${path.basename(e.source)}: ${e.original.prediction} (${(e.original.confidence * 100).toFixed(1)}%) → ${e.adversarial.prediction} (${(e.adversarial.confidence * 100).toFixed(1)}%)` +
            `${e.success ? '  fooled' : ''}  L∞ ${e.linf.toFixed(4)}  L2 ${e.l2.toFixed(3)}  → ${path.join(opts.out, e.output)}\n`,
        );
      }
      const fooled = manifest.images.filter((e) => e.success).length;
      logLine(quiet, `${attack.name} ε=${formatEps(eps)}: ${fooled}/${manifest.images.length} fooled; manifest: ${path.join(opts.out, 'manifest.json')}`);
    } finally {
      model.dispose?.();
    }
  });
}
