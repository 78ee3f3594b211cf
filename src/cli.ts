#!/usr/bin/env node
import { quietWhenOutputCloses } from './cli/io.js';
import { runCli } from './cli/main.js';

quietWhenOutputCloses(process.stdout);
quietWhenOutputCloses(process.stderr);

process.exitCode = await runCli(process.argv.slice(2), process);
