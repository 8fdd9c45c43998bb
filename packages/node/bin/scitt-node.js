#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mxfast=0 node --max-semi-space-size=32
// The `scitt-node` command: runs the built CLI (npm run build first). The node allocates short-lived
// garbage per entry at high rates: a 32 MiB young generation halves its GC time, and glibc's malloc
// without fastbins stops spending a third of the main thread consolidating them (README, Design).
import '../dist/cli.js'
