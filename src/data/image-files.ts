import type { ImageShape } from '../types.js';
import { labelFromFileName } from './file-names.js';
import { decodeImageDetailed, type DecodeOptions, type DecodeRecord } from './image-codec.js';

/** One image to attack (attackImages), decoded to the model's shape. */
export interface ImageInput {
  /** Where the image came from (shown in the manifest). */
  source: string;
  /** h·w·c values in the model's range. */
  pixels: Float32Array;
  /** True label; when absent, the model's own clean prediction is the label to move away from. */
  label?: number;
  /** What decoding did (original size, resize, colour, alpha), recorded in the manifest. */
  decoded?: DecodeRecord;
}

/**
 * Decodes image files to `shape`, labelled by a `label<k>` in their names. A file that decodes to
 * one flat colour holds nothing to classify: `onWarning` gets a line saying why and what to do.
 */
export async function readImageFiles(files: string[], shape: ImageShape, options: DecodeOptions, onWarning: (message: string) => void): Promise<ImageInput[]> {
  const inputs: ImageInput[] = [];
  for (const file of files) {
    const { pixels, record } = await decodeImageDetailed(file, shape, options);
    if (record.blank) {
      const why = record.original.hasAlpha ? `after flattening its transparency onto ${record.background}` : 'after decoding';
      const fix = record.original.hasAlpha ? 'pass --background with a colour that contrasts with the drawing' : 'check the file';
      onWarning(`${file} is one flat colour ${why}, so there is nothing to classify: ${fix}`);
    }
    inputs.push({ source: file, pixels, label: labelFromFileName(file), decoded: record });
  }
  return inputs;
}
