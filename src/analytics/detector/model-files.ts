import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The only model files Vigil loads from @vladmandic/human's models folder: the COCO object
 * detector (analytics) and the BlazeFace face *detector* (redaction only: it finds where faces
 * are so they can be blurred). That package also ships age, gender, emotion and face-recognition
 * models: Vigil never loads them (refused by design), which is why this is a closed list and not
 * a configurable name.
 */
export type ModelFile = 'centernet.json' | 'blazeface.json';

const require = createRequire(import.meta.url);

/** The models folder of @vladmandic/human, found without importing (and so without running) the package. */
export function defaultModelDir(): string {
  return join(dirname(require.resolve('@vladmandic/human')), '..', 'models');
}
