#!/usr/bin/env node
// Catch signals first, before the rest of kubexit loads, so none is lost to Node's default action.
import { ProcessSignals, tellFrontSignalsReady } from '../src/adapters/process-signals.ts';

const signals = new ProcessSignals();
tellFrontSignalsReady();
const { main } = await import('../src/main.ts');
const { stderrSink } = await import('../src/adapters/stderr-sink.ts');
process.exitCode = await main(process.argv.slice(2), process.env, signals);
// Log lines queued behind a full stderr pipe are written before the exit drops them.
await stderrSink.flush();
// Exit now: nothing of ours is left to do, and a handle a library forgot must not keep us alive.
process.exit();
