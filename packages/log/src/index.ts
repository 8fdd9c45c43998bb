export * from './log.js'
export * from './sequencer.js'
export * from './fsck.js'
export * from './database.js'
