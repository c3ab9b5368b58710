// Runs a TypeScript worker file when advtest itself runs from sources (tests, tsx): each worker
// thread needs tsx's loader registered in it before importing the .ts entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
