// The full-size run (300 digits) of test/defenses/pgd-at-fixture.test.ts; `npm test` runs it on 100.
import '../defenses/pgd-at-fixture.test.js';
