/*
 * Entry point of the single executable (dist/kubexit). Same as bin/kubexit.js, without top-level
 * await, which the CommonJS bundle a Node single executable needs can't have.
 */
import { ProcessSignals, tellFrontSignalsReady } from '../adapters/process-signals.ts';
import { stderrSink } from '../adapters/stderr-sink.ts';
import { main } from './main.ts';

const signals = new ProcessSignals();
tellFrontSignalsReady();
void main(process.argv.slice(2), process.env, signals).then(async (code) => {
  // Log lines queued behind a full stderr pipe are written before the exit drops them.
  await stderrSink.flush();
  process.exit(code);
});
