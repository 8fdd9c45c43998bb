/**
 * @scitt/client, portable part: runs in Node and in browsers (global fetch, core's portable crypto by
 * default). Node-only helpers (a JSON state file for the follower) are in `./node.ts`.
 */
export * from './http.js'
export * from './poll.js'
export * from './register.js'
export * from './fetch.js'
export * from './keys.js'
export * from './statement.js'
export * from './verify.js'
export * from './verify-code.js'
export * from './tile-proofs.js'
export * from './follower.js'
