/**
 * advtest's browser entry (package.json "browser" condition → dist/browser/advtest.js): the
 * Classifier contract, attacks, the harness (evaluate, runAttack → the same report JSON as in
 * Node), norms and 8-bit finalisation, plus what a page needs instead of files — models from URLs
 * and File objects, images from <img>/ImageBitmap/ImageData, backends webgl/webgpu/wasm/cpu.
 * Node-bound modules the harness imports are replaced at bundle time (src/browser/substitutes.ts).
 */
export * from './types.js';
export { UserError, IntegrityError } from './errors.js';
export { initBackend, backendInfo, BROWSER_BACKENDS, type BrowserBackend, type BrowserBackendInfo, type BrowserBackendOptions } from './browser/backend.js';
export { loadModelFrom, loadModelFrom as loadModel, type ModelSource, type ModelFile } from './browser/load-model.js';
export { imageToTensor, imagesToBatch, toRgba, type PixelSource } from './browser/images.js';
export { datasetFromImages } from './browser/dataset.js';
export type { ModelMetadata, LoadModelOptions } from './model/store.js';
export { layersClassifier, type LayersClassifierOptions } from './model/classifier.js';
export { withPreprocessing, applyPreprocessing, describePreprocessing, validatePreprocessing, type Preprocessing } from './model/preprocessing.js';
export { withInputTransform, straightThrough, expectation, type InputTransform, type TransformedClassifier } from './model/input-transform.js';
export { scoreClassifier, type ScoreFunction } from './model/score-model.js';
export { balancedSubset, subset, fingerprint } from './data/dataset.js';
export { evaluate, type EvaluateOptions, type SuiteMode } from './harness/evaluate.js';
export { cellSeed } from './harness/evaluate-batch.js';
export { runAttack } from '../attacks/run-attack.js';
export { finalizeAdversarial, quantize8, quantize8WithinBudget } from './tensor/finalize.js';
export { robustnessCurves } from './harness/curves.js';
export type { Report, AttackResult, Proportion, WorstCase, RobustnessCurve, SanityCheck } from './harness/report-types.js';
export type { TargetSpec } from './harness/targets.js';
export { linf, l2, NORMS } from './tensor/norms.js';
export { fgsm, fgm, bim, pgd, miFgsm, apgd, square, bpda, eot, gradientDescentAttack, makeAttack, makeAttacks, ATTACK_REGISTRY, PRESETS } from '../attacks/index.js';
