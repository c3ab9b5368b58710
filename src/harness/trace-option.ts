import { UserError } from '../errors.js';
import { MAX_TRACE_ITERATIONS, MAX_TRACED_EXAMPLES } from '../../attacks/convergence.js';

/**
 * --trace: positions in the evaluated set ("0,7,12", 0-based, as the report's examples), of which
 * iterative attacks record loss and margin per iteration. Bounded, since each keeps a value per
 * iteration per attack and ε.
 */
export function parseTraceOption(text: string, option = '--trace'): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new UserError(`${option} "${text}" names no example: write positions in the evaluated set, e.g. ${option} 0,7,12`);
  const bad = parts.find((p) => !/^\d+$/.test(p));
  if (bad !== undefined) throw new UserError(`${option}: "${bad}" is not a position in the evaluated set: write 0-based integers, e.g. ${option} 0,7,12`);
  const positions = [...new Set(parts.map(Number))];
  if (positions.length > MAX_TRACED_EXAMPLES) {
    throw new UserError(`${option} names ${positions.length} examples: at most ${MAX_TRACED_EXAMPLES} can be traced (each keeps up to ${MAX_TRACE_ITERATIONS} iterations per attack and ε)`);
  }
  return positions;
}
