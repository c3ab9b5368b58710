/**
 * Examples shown at the end of each command's --help (attached in program.ts), kept in one place
 * so that they are read together and the command files stay about options.
 */
export const EXAMPLES: Record<string, string[]> = {
  advtest: [
    'advtest demo                                            # the fixture model under FGSM, with adversarial PNGs',
    'advtest eval --model models/std --attack fgsm,pgd --eps 0.1,0.3 --limit 500',
    'advtest <command> --help                                # a command\'s options and examples',
  ],
  demo: ['advtest demo', 'advtest demo --train --epochs 1 --out out/demo', 'advtest demo --eps 0.1,0.2 --limit 500 --json demo.json'],
  train: [
    'advtest train --arch mnist-cnn --epochs 5 --out models/std',
    'advtest train --arch mlp --defense fgsm-at,augment=crop --train-eps 0.3 --out models/fgsm-at',
    'advtest train --arch mnist-cnn --defense pgd-at --train-steps 7 --train-eps 0.3 --train-eps-ramp 5 --epochs 40 --schedule cosine --out models/madry',
  ],
  eval: [
    'advtest eval --model models/std --attack fgsm --eps 0.1,0.2,0.3 --limit 500',
    'advtest eval --model models/std --attack strong --eps 8/255 --json report.json --html report.html',
    'advtest eval --model models/std --attack pgd --steps 100 --restarts 5 --eps 0:0.3:0.05 --mode independent',
    'advtest eval --model models/std --transform bit-depth=3 --bpda --attack pgd --eps 0.3',
    'advtest eval --model models/std --attack strong --eps 0.3 --shard 0/4 --json shard-0.json',
  ],
  attack: [
    'advtest attack --model models/std --images a.png b.jpg --eps 8/255 --out adv/',
    'advtest attack --model models/std --images digit-label7.png --attack pgd --steps 40 --eps 0.1,0.2 --out adv/',
    'advtest attack --model models/std --images *.png --attack square --eps 0.05 --targeted 3 --json',
  ],
  certify: ['advtest certify --model models/gauss --sigma 0.25 --limit 100', 'advtest certify --model models/gauss --sigma 0.5 --radii 0,0.5,1 --empirical pgd'],
  merge: ['advtest merge shard-*.json --json report.json', 'advtest merge shard-0.json shard-1.json        # prints the table'],
  baseline: ['advtest baseline --model models/std --attack fgsm,fgm --eps 0.1,0.2 --limit 1000 --out robustness.json'],
  check: [
    'advtest check --baseline robustness.json',
    'advtest check --baseline robustness.json --model models/candidate --tolerance 1% --json check.json',
    'advtest check --baseline robustness.json --md > comment.md',
  ],
  leaderboard: [
    'advtest leaderboard --config fixtures/bench/defenses.json --out bench-results --html bench.html',
    'advtest leaderboard --config fixtures/bench/defenses.json --only standard,pgd-at   # split a config between processes',
  ],
  report: ['advtest report r.json                   # r.html beside it', 'advtest report r.json --md               # the tables as Markdown', 'advtest report r.json --out r.html --no-images'],
  compare: ['advtest compare before.json after.json              # Markdown: curves, lost/gained examples, per-class changes', 'advtest compare std.json madry.json trades.json --html compare.html'],
  grid: ['advtest grid r.json --out grid.png', 'advtest grid r.json --per-row 4 --scale 4'],
  serve: ['advtest serve                            # http://127.0.0.1:8080/, the fixture mnist-cnn', 'advtest serve --model models/std --port 0   # any free port'],
};

/** The "Examples:" block of a command's help, or undefined when it has none. */
export function examplesText(command: string): string | undefined {
  const lines = EXAMPLES[command];
  if (!lines || lines.length === 0) return undefined;
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
