/**
 * libp2p 3 needs `Promise.withResolvers` (ES2024), which Node 20 lacks (docs/stack-notes.md): without it
 * `createLibp2p()` throws and every dial fails with a misleading ECONNRESET. Import this module before
 * anything else (the CLI's first import; mocha's `--node-option import=`).
 */
interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const P = Promise as PromiseConstructor & { withResolvers?: <T>() => Resolvers<T> }
if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> (): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    },
  })
}

export {}
