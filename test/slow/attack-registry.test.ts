// The full-size run (40 digits per attack, 30 against FGSM) of test/attacks/registry.test.ts; `npm test` runs it on 20.
import '../attacks/registry.test.js';
