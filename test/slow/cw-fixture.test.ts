// The 10-digit run of test/attacks/cw.test.ts; `npm test` runs it on 5.
import '../attacks/cw.test.js';
