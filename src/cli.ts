#!/usr/bin/env node
import { endQuietlyWhenOutputCloses } from './cli/io.js';
import { runCli } from './cli/main.js';

endQuietlyWhenOutputCloses(process.stdout);
process.exitCode = await runCli(process.argv.slice(2), process);
