#!/usr/bin/env node
// kubexit run from its sources: plain JavaScript up to the version check, so that an older Node
// prints what to do instead of failing on the TypeScript it can't load.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `kubexit: running from the sources needs Node 24 or later (this is Node ${process.versions.node}): run "npm ci" in the repository and use "npx kubexit" (npm installs Node 24 there), or use the kubexit executable or image (see the README)\n`,
  );
  process.exit(2);
}
// Node keeps the compiled sources in its compile cache (in the temporary directory): every start
// from the sources after the first is much cheaper (docs/design.md, "Runs from the sources").
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
// Catch signals first, before the rest of kubexit loads, so none is lost to Node's default action.
const { ProcessSignals, tellFrontSignalsReady } = await import(
  '../src/adapters/process-signals.ts'
);
const signals = new ProcessSignals();
tellFrontSignalsReady();
const { main } = await import('../src/entry/main.ts');
const { stderrSink } = await import('../src/adapters/stderr-sink.ts');
process.exitCode = await main(process.argv.slice(2), process.env, signals);
// Log lines queued behind a full stderr pipe are written before the exit drops them.
await stderrSink.flush();
// Exit now: nothing of ours is left to do, and a handle a library forgot must not keep us alive.
process.exit();
