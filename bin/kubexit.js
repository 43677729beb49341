#!/usr/bin/env node
import { main } from '../src/main.ts';

process.exitCode = await main(process.argv.slice(2), process.env);
// Exit now: nothing of ours is left to do, and a handle a library forgot must not keep us alive.
process.exit();
