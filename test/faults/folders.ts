import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../../src/package-info.js';

const PNGS = path.join(packageRoot(), 'fixtures', 'scenarios', 'model-nan', 'data');

/** Two 8×8 images in class folders 0 and 1 (names the 10-class fixture model accepts). */
export async function twoImageFolder(dir: string): Promise<string> {
  await mkdir(path.join(dir, '0'), { recursive: true });
  await mkdir(path.join(dir, '1'), { recursive: true });
  await cp(path.join(PNGS, 'a', '0.png'), path.join(dir, '0', 'a.png'));
  await cp(path.join(PNGS, 'b', '0.png'), path.join(dir, '1', 'b.png'));
  return dir;
}
