#!/usr/bin/env node
/**
 * `scitt`: the command line of @scitt/client, for issuers (keygen, sign, register), relying parties
 * (get, keys, verify, checkpoint) and monitors (monitor). A thin layer over the SDK: each sub-command
 * lives in cli/<name>.ts. Exit codes: 0 ok, 1 verification failed, 2 usage or input error.
 */
import { checkpoint } from './cli/checkpoint.js'
import { EXIT, explain, parse, type Command } from './cli/common.js'
import { get } from './cli/get.js'
import { keygen } from './cli/keygen.js'
import { keys } from './cli/keys.js'
import { monitor } from './cli/monitor.js'
import { register } from './cli/register.js'
import { sign } from './cli/sign.js'
import { verify } from './cli/verify.js'
import { useNodeSha256 } from '@scitt/node-crypto'

const COMMANDS: Command[] = [keygen, sign, register, get, keys, verify, checkpoint, monitor]

function usage (): string {
  return `usage: scitt <command> [options]    (scitt <command> --help for details)

${COMMANDS.map((c) => `  ${c.name.padEnd(11)} ${c.summary}`).join('\n')}

Every command accepts --help and --json. Exit codes: 0 ok, 1 verification failed, 2 usage or input error.`
}

async function main (argv: string[]): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`)
    return name === undefined ? EXIT.usage : EXIT.ok
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (command === undefined) {
    process.stderr.write(`scitt: unknown command ${JSON.stringify(name)}\n\n${usage()}\n`)
    return EXIT.usage
  }
  const { values, positionals } = parse(command, args)
  if (values.help === true) {
    process.stdout.write(`${command.help}\n`)
    return EXIT.ok
  }
  return command.run(values, positionals)
}

useNodeSha256()
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  const { code, message } = explain(err)
  process.stderr.write(`scitt: ${message}\n`)
  process.exitCode = code
})
