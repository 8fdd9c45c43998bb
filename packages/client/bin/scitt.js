#!/usr/bin/env node
// The `scitt` command: runs the built CLI (npm run build first).
import '../dist/cli.js'
