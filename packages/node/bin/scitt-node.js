#!/usr/bin/env node
// The `scitt-node` command: runs the built CLI (npm run build first).
import '../dist/cli.js'
