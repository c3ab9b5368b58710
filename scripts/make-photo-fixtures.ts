/**
 * Writes fixtures/photos: a few natural photos from Debian's python3-skimage package (public
 * domain / CC0, see fixtures/photos/README.md), two views of each (the whole photo and a crop),
 * downsized so that the longer side is 256 px, as JPEG, in one sub-folder per class: a `folder:`
 * dataset whose class names are the fixture MobileNets' labels.
 *   apt-get download python3-skimage && dpkg-deb -x python3-skimage_*.deb /tmp/skimage
 *   npx tsx scripts/make-photo-fixtures.ts /tmp/skimage/usr/lib/python3/dist-packages/skimage/data
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

/** Class name → source file; the order is the models' class order. */
export const PHOTO_CLASSES: readonly { name: string; file: string; crop: { left: number; top: number; size: number } }[] = [
  { name: 'astronaut', file: 'astronaut.png', crop: { left: 0.15, top: 0.05, size: 0.6 } },
  { name: 'cat', file: 'chelsea.png', crop: { left: 0.35, top: 0.05, size: 0.75 } },
  { name: 'coffee', file: 'coffee.png', crop: { left: 0.2, top: 0.1, size: 0.7 } },
  { name: 'galaxies', file: 'hubble_deep_field.jpg', crop: { left: 0.4, top: 0.35, size: 0.5 } },
  { name: 'retina', file: 'retina.jpg', crop: { left: 0.1, top: 0.1, size: 0.8 } },
  { name: 'rocket', file: 'rocket.jpg', crop: { left: 0.25, top: 0.0, size: 0.75 } },
];

const LONG_SIDE = 256;
const QUALITY = 82;

async function main(): Promise<void> {
  const source = process.argv[2] ?? '/usr/lib/python3/dist-packages/skimage/data';
  const out = path.resolve(import.meta.dirname, '..', 'fixtures', 'photos');
  for (const c of PHOTO_CLASSES) {
    const file = path.join(source, c.file);
    const dir = path.join(out, c.name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const { width, height } = await sharp(file).metadata();
    const short = Math.min(width!, height!);
    const side = Math.round(short * c.crop.size);
    const region = { left: Math.min(Math.round(width! * c.crop.left), width! - side), top: Math.min(Math.round(height! * c.crop.top), height! - side), width: side, height: side };
    const encode = (img: ReturnType<typeof sharp>) => img.resize({ width: LONG_SIDE, height: LONG_SIDE, fit: 'inside', kernel: 'lanczos3' }).removeAlpha().jpeg({ quality: QUALITY, mozjpeg: false });
    await encode(sharp(file)).toFile(path.join(dir, `${c.name}-whole.jpg`));
    await encode(sharp(file).extract(region)).toFile(path.join(dir, `${c.name}-crop.jpg`));
    console.log(`wrote ${dir}`);
  }
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) await main();
