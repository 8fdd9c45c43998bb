/** Loads the shared test vectors copied into test/fixtures (from ../shared/vectors). */
import { readFileSync } from 'node:fs'

export function loadVector<T = any> (name: 'rfc9162-merkle' | 'c2sp-notes' | 'cose-receipt'): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as T
}
