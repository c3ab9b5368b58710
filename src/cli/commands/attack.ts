import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { withAttackOptions, type AttackCliOptions } from '../attack-options.js';
import { decodeImage } from '../../data/image-codec.js';
import { labelFromFileName } from '../../data/file-names.js';
import { UserError } from '../../errors.js';
import { attackImages, type ImageInput } from '../../harness/attack-images.js';
import { parseTargetSpec } from '../../harness/targets.js';
import { loadClassifier, withModelOptions, type ModelCliOptions } from '../model-options.js';
import { formatEps } from '../../report/text.js';
import { setup, withCommonOptions, type CommonOptions } from '../common.js';
import { singleAttack, type AttackRequest } from '../evaluation-request.js';
import { checkEpsAgainstRange, parseEps, parsePositiveInt } from '../parse.js';
import { logLine } from '../progress.js';
import { startWorkerPool, type WorkerPool } from '../worker-pool.js';

/** Images per batch; also the unit shared out to worker threads. */
const BATCH_SIZE = 64;

interface AttackOptions extends CommonOptions, AttackCliOptions, ModelCliOptions {
  images: string[];
  eps: string;
  out: string;
  targeted?: string;
  json?: boolean;
  workers: string;
}

export function attackCommand(): Command {
  const cmd = new Command('attack')
    .description('adversarial examples from image files, written as lossless PNGs with a manifest')
    .requiredOption('--images <files...>', 'images sharp can read; a "label<k>" in the name gives the true class')
    .option('--eps <value>', 'budget, e.g. 0.1 or 8/255', '8/255')
    .option('--out <dir>', 'output folder', 'adv')
    .option('--targeted <spec>', 'least-likely | random | a class index')
    .option('--json', 'print the manifest as JSON instead of a summary')
    .option('--workers <n>', `worker threads sharing the batches of ${BATCH_SIZE} images (results are identical for any n)`, String(availableParallelism()));
  return withCommonOptions(withAttackOptions(withModelOptions(cmd))).action(async (opts: AttackOptions) => {
    const { seed, quiet } = await setup(opts);
    const eps = parseEps(opts.eps);
    const workers = parsePositiveInt(opts.workers, '--workers');
    const attack = singleAttack(opts);
    const model = await loadClassifier(opts);
    let pool: WorkerPool | undefined;
    try {
      checkEpsAgainstRange([eps], model.bounds.upper - model.bounds.lower);
      if (model.bounds.lower !== 0 || model.bounds.upper !== 1) {
        throw new UserError(`the model's input range is [${model.bounds.lower}, ${model.bounds.upper}]; image files decode to [0, 1]: use a model that takes [0, 1] inputs`);
      }
      const inputs: ImageInput[] = [];
      for (const file of opts.images) {
        inputs.push({ source: file, pixels: await decodeImage(file, model.inputShape), label: labelFromFileName(file) });
      }
      pool = startWorkerPool(workers, Math.ceil(inputs.length / BATCH_SIZE), { kind: 'attack', request: attackRequest(opts, eps, seed) });
      const manifest = await attackImages(model, inputs, {
        attack,
        eps,
        outDir: opts.out,
        seed,
        target: parseTargetSpec(opts.targeted, model.numClasses),
        batchSize: BATCH_SIZE,
        ...(pool ? { runner: pool.attackRunner() } : {}),
      });
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
      await pool?.close();
      model.dispose?.();
    }
  });
}

/** What a worker thread needs to rebuild this command's model and attack. */
function attackRequest(opts: AttackOptions, eps: number, seed: number): AttackRequest {
  const { model, inputShape, classes, outputs, concurrency } = opts;
  const { attack, steps, stepSize, restarts, norm, loss, mode, bpda, eot } = opts;
  return { backend: opts.backend, model: { model, inputShape, classes, outputs, concurrency }, attack: { attack, steps, stepSize, restarts, norm, loss, mode, bpda, eot }, eps, seed };
}
