/** @scitt/client for Node: the portable SDK plus Node-only helpers. */
export * from './index.js'
export * from './state-file.js'
export * from './receipt-pool.js'
