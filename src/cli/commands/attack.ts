import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { pickAttackOptions, type AttackCliOptions } from '../../run/attack-options.js';
import { parseBackground, RESAMPLE_KERNELS, RESIZE_MODES, type DecodeOptions, type ResampleKernel, type ResizeMode } from '../../data/image-codec.js';
import { readImageFiles } from '../../data/image-files.js';
import { UserError } from '../../errors.js';
import { attackImages } from '../../harness/attack-images.js';
import type { ManifestEntry, ManifestPrediction } from '../../harness/attack-manifest.js';
import { checkOutDir } from '../../harness/attack-output.js';
import { checkBatchFits, parseBatchSize } from '../../harness/batch-size.js';
import { formatEps, pct } from '../../number-format.js';
import { parseTargetSpec } from '../../harness/targets.js';
import { modelCliOptions, type ModelCliOptions } from '../../run/model-options.js';
import { setup, withAttackOptions, withCommonOptions, withModelOptions, type CommonOptions, type EvaluationCliOptions } from '../common.js';
import { materializeAttack, singleAttack, type AttackImagesRequest } from '../../run/requests.js';
import { resolveWorkers } from '../../backend/select.js';
import { parseEpsList } from '../../parse.js';
import { checkAttackSetup } from '../../harness/budgets.js';
import { logLine } from '../../run/progress.js';
import { startWorkerPool, type WorkerPool } from '../../run/worker-pool.js';

/** Images per batch at most (28×28 digits use it; larger images fewer, see batch-size.ts). */
const MAX_BATCH_SIZE = 64;

interface AttackCommandOptions extends CommonOptions, AttackCliOptions, ModelCliOptions, Pick<EvaluationCliOptions, 'eps' | 'batchSize' | 'targeted'> {
  images: string[];
  out: string;
  force?: boolean;
  resize: ResizeMode;
  resample: ResampleKernel;
  background: string;
  json?: boolean;
  workers: string;
  sourceModel?: string;
}

const named = (p: ManifestPrediction): string => `${p.name ?? p.prediction} (${pct(p.confidence)})`;

/** One terminal line per image and ε. */
function describeEntry(e: ManifestEntry, out: string, severalEps: boolean): string {
  const head = `${path.basename(e.source)}${severalEps ? ` ε=${formatEps(e.eps)}` : ''}`;
  if (e.status === 'misclassified' || !e.adversarial || e.output === null) {
    return `${head}: label ${e.labelName ?? e.label}, but the model predicts ${named(e.original)}: misclassified before the attack, not attacked`;
  }
  return (
    `${head}: ${named(e.original)} → ${named(e.adversarial)}${e.success ? '  fooled' : ''}  L∞ ${e.linf.toFixed(4)}  L2 ${e.l2.toFixed(3)}` +
    `  → ${path.join(out, e.output)}`
  );
}

export function attackCommand(): Command {
  const cmd = new Command('attack')
    .description('adversarial examples from image files, written as lossless PNGs with a manifest')
    .requiredOption('--images <files...>', 'images sharp can read; a "label<k>" in the name gives the true class')
    .option('--eps <list>', 'budgets in [0, 1] pixel units, e.g. 8/255 or 2/255,8/255 (several: one sub-folder eps-<ε> each)', '8/255')
    .option('--out <dir>', 'output folder (new or empty)', 'adv')
    .option('--force', 'write into a non-empty --out, replacing the results its manifest.json lists (other files are kept)')
    .addOption(new Option('--resize <mode>', 'images of another size: cover = scale and crop the centre, contain = letterbox with --background, stretch = ignore the aspect ratio').choices([...RESIZE_MODES]).default('cover'))
    .addOption(new Option('--resample <kernel>', 'resampling kernel for the resize').choices([...RESAMPLE_KERNELS]).default('bilinear'))
    .option('--background <colour>', 'colour transparent pixels (and letterboxes) become: #rrggbb, white or black', '#ffffff')
    .option('--batch-size <n>', `images per batch: auto (from the image size and the 4 GiB wasm heap; ${MAX_BATCH_SIZE} for small images) or a number`, 'auto')
    .option('--targeted <spec>', 'least-likely | random | a class index')
    .option('--json', 'print the manifest as JSON instead of a summary')
    .option('--source-model <dir>', 'transfer: craft the adversarial images on this model; predictions and the manifest are --model\'s')
    .option('--workers <n>', 'worker threads sharing the batches: a number, or auto (as many as a start-up measurement finds worth it) (results are identical for any n)', String(availableParallelism()));
  return withCommonOptions(withAttackOptions(withModelOptions(cmd))).action(async (opts: AttackCommandOptions) => {
    const { seed, quiet, backend } = await setup(opts);
    const epsilons = parseEpsList(opts.eps);
    const workers = await resolveWorkers(opts.workers);
    for (const line of backend.parallelism ?? []) if (line.startsWith('--workers')) logLine(quiet, line);
    singleAttack(opts);
    const decode: DecodeOptions = { resize: opts.resize, resample: opts.resample, background: parseBackground(opts.background) };
    const existing = opts.force ? 'replace' : 'refuse';
    // Before the model loads and images decode: an occupied --out is the commonest mistake.
    await checkOutDir(opts.out, existing);
    // The model and attack as worker threads rebuild them: all model options, preprocessing and labels included.
    const request: AttackImagesRequest = { backend: opts.backend, model: modelCliOptions(opts), attack: pickAttackOptions(opts), eps: epsilons[0]!, seed, sourceModel: opts.sourceModel };
    const { model, attack, source } = await materializeAttack(request);
    let pool: WorkerPool | undefined;
    try {
      // attack has no --transform to suggest for --eot on a deterministic model.
      checkAttackSetup(model, [attack], epsilons, (note) => logLine(quiet, `note: ${note}`), false);
      if (model.bounds.lower !== 0 || model.bounds.upper !== 1) {
        throw new UserError(`the model's input range is [${model.bounds.lower}, ${model.bounds.upper}]; image files decode to [0, 1]: use a model that takes [0, 1] inputs`);
      }
      const batchSize = parseBatchSize(opts.batchSize, model.inputShape, MAX_BATCH_SIZE);
      if (backend.name === 'wasm') checkBatchFits(batchSize, opts.images.length, model.inputShape);
      const inputs = await readImageFiles(opts.images, model.inputShape, decode, (warning) => process.stderr.write(`advtest: warning: ${warning}\n`));
      const units = Math.ceil(inputs.length / batchSize) * epsilons.length;
      pool = startWorkerPool(workers, units, { kind: 'attack', request });
      const manifest = await attackImages(model, inputs, {
        attack,
        eps: epsilons,
        outDir: opts.out,
        seed,
        target: parseTargetSpec(opts.targeted, model.numClasses),
        batchSize,
        existing,
        ...(pool ? { runner: pool.attackRunner() } : {}),
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
        return;
      }
      for (const e of manifest.images) process.stdout.write(`${describeEntry(e, opts.out, epsilons.length > 1)}\n`);
      for (const s of manifest.summary) {
        const wrong = s.misclassified > 0 ? ` (${s.misclassified} misclassified before the attack, not attacked)` : '';
        logLine(quiet, `${attack.name} ε=${formatEps(s.eps)}: ${s.fooled}/${s.attacked} fooled${wrong}`);
      }
      logLine(quiet, `manifest: ${path.join(opts.out, 'manifest.json')}`);
    } finally {
      await pool?.close();
      model.dispose?.();
      source?.dispose?.();
    }
  });
}
