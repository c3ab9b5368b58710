/** advtest's library API: everything the CLI does, from TypeScript. */
export * from './types.js';
export { UserError, IntegrityError } from './errors.js';
export { initBackend, backendInfo, type BackendChoice, type BackendInfo } from './backend/select.js';
export { loadModel, saveModel, loadLayersModel, type ModelMetadata } from './model/store.js';
export { layersClassifier } from './model/classifier.js';
export { buildArchitecture, ARCHITECTURES, type ArchitectureName } from './model/architectures.js';
export { datasets, loadDataset } from './data/index.js';
export { balancedSubset, subset, fingerprint } from './data/dataset.js';
export { decodeImage, encodePng } from './data/image-codec.js';
export { evaluate, type EvaluateOptions } from './harness/evaluate.js';
export { attackImages, type ImageInput, type AttackManifest } from './harness/attack-images.js';
export { runAttack } from './harness/run-attack.js';
export type { Report, AttackResult, Proportion, WorstCase } from './harness/report.js';
export type { TargetSpec } from './harness/targets.js';
export { renderText } from './report/text.js';
export { linf, l2, NORMS } from './tensor/norms.js';
export { trainModel, type TrainOptions, type TrainingHooks } from './train/loop.js';
export { fgsm, fgm, gradientDescentAttack, makeAttack, ATTACK_REGISTRY } from '../attacks/index.js';
