import type { Report } from '../../src/harness/report-types.js';
import { confusionCounts, perClassFigures } from '../../src/report/breakdown.js';

/** CIFAR-100's fine labels: long, real names for a 100-class page. */
export const CIFAR100_NAMES = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle caterpillar cattle ' +
  'chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard ' +
  'lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree ' +
  'plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider ' +
  'squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm'
).split(' ');

/**
 * A 10-class report spread over up to 100 classes (60 with 6 examples per digit): the label and
 * every prediction of an example move by 10 × (how many of its label came before it, mod 10), so that each example stays right or wrong exactly as before (the overall
 * figures do not change) while the per-class and confusion breakdowns have 100 classes.
 */
export function hundredClassReport(report: Report): Report {
  const ex = report.examples;
  // The k-th example of a label goes to class label + 10 × (k mod 10).
  const seen = new Array<number>(10).fill(0);
  const shifts = ex.labels.map((y) => 10 * (seen[y]!++ % 10));
  const shift = (i: number) => shifts[i]!;
  const examples = {
    ...ex,
    labels: ex.labels.map((y, i) => y + shift(i)),
    cleanPredictions: ex.cleanPredictions.map((p, i) => p + shift(i)),
    results: ex.results.map((r) => ({ ...r, predictions: r.predictions.map((p, i) => p + shift(i)) })),
  };
  const moved: Report = { ...report, examples, ...(report.probe ? { probe: { ...report.probe, numClasses: 100 } } : {}) };
  return { ...moved, perClass: perClassFigures(moved, 100), confusion: confusionCounts(moved) };
}
