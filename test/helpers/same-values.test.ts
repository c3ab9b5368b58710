import { expect, it } from 'vitest';
import { expectSameValues } from './same-values.js';

it('expectSameValues passes equal arrays and fails on one differing value, a length or a sign of zero, naming the first', () => {
  expectSameValues([[1, 2], [NaN]], [[1, 2], [NaN]]);
  expect(() => expectSameValues([[1, 2], [3, 4]], [[1, 2], [3, 5]], 'w')).toThrow(/w that differ \(first at \[1\]\[1\]: 4 against 5\)/);
  expect(() => expectSameValues([[1, 2]], [[1, 2, 3]])).toThrow(/length/);
  expect(() => expectSameValues([[1]], [[1], [2]])).toThrow(/how many arrays/);
  expect(() => expectSameValues([[0]], [[-0]])).toThrow(/differ/);
});
