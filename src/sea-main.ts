/*
 * Entry point of the single executable (dist/kubexit). Same as bin/kubexit.js, without top-level
 * await, which the CommonJS bundle a Node single executable needs can't have.
 */
import { ProcessSignals, tellFrontSignalsReady } from './adapters/process-signals.ts';
import { main } from './main.ts';

const signals = new ProcessSignals();
tellFrontSignalsReady();
void main(process.argv.slice(2), process.env, signals).then((code) => process.exit(code));
