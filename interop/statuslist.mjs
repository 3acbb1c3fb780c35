// Decodes and encodes the encodedList of a W3C Bitstring Status List v1.0 with Digital
// Bazaar's @digitalbazaar/vc-bitstring-status-list (its BitstringStatusList over
// @digitalbazaar/bitstring and pako): an implementation independent of
// credentials/statuslist.py, for tests/integration/test_statuslist_interop.py. Offline.
//
//   node interop/statuslist.mjs     the job on stdin, one of:
//     {"decode": "u…encodedList…", "indexes": [0, 7, …]}
//       prints {"length": <entries in the list>, "set": [the given indexes whose bit is set]}
//     {"encode": {"length": 131072, "set": [0, 7, …]}}
//       prints {"encodedList": "u…"}: a list of that many entries with those bits set
//
// Exits 0 with the JSON on stdout; exits 1 with a message on stderr when the job is
// unusable, an index is outside the list, or the library refuses the encodedList.

import {BitstringStatusList} from '@digitalbazaar/vc-bitstring-status-list';

import {UsageError, readJob} from './offline.mjs';


const USAGE =
  'usage: node interop/statuslist.mjs < JOB.json, the job ' +
  '{"decode": "u…", "indexes": [n, …]} or {"encode": {"length": n, "set": [n, …]}}';

function checkKeys(object, allowed, what) {
  const unknown = Object.keys(object).filter((name) => !allowed.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown member(s) ${unknown.join(', ')} of ${what}; allowed: ${allowed.join(', ')}`,
    );
  }
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// The library reads a non-integer index as its floor; a job that sends one is a mistake.
function indexList(value, name, length) {
  if (!Array.isArray(value)) {
    throw new UsageError(`"${name}" must be an array of indexes`);
  }
  for (const index of value) {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new UsageError(`"${name}": ${JSON.stringify(index)} is not a non-negative integer`);
    }
    if (index >= length) {
      throw new UsageError(`"${name}": index ${index} is outside a list of ${length} entries`);
    }
  }
  return value;
}

async function decode(job) {
  checkKeys(job, ['decode', 'indexes'], 'a decode job');
  const encodedList = job.decode;
  if (typeof encodedList !== 'string' || encodedList.length === 0) {
    throw new UsageError('"decode" must be a non-empty encodedList string');
  }
  let list;
  try {
    list = await BitstringStatusList.decode({encodedList});
  } catch (error) {
    throw new UsageError(`the library refuses the encodedList: ${error.message ?? error}`);
  }
  const indexes = indexList(job.indexes ?? [], 'indexes', list.length);
  return {length: list.length, set: indexes.filter((index) => list.getStatus(index))};
}

async function encode(job) {
  checkKeys(job, ['encode'], 'an encode job');
  const spec = job.encode;
  if (!isObject(spec)) {
    throw new UsageError('"encode" must be an object {"length": n, "set": [n, …]}');
  }
  checkKeys(spec, ['length', 'set'], '"encode"');
  const {length} = spec;
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new UsageError(`"encode.length" must be a positive integer, got ${JSON.stringify(length)}`);
  }
  const list = new BitstringStatusList({length});
  for (const index of indexList(spec.set ?? [], 'encode.set', length)) {
    list.setStatus(index, true);
  }
  return {encodedList: await list.encode()};
}

async function main(argv) {
  if (argv.length > 0) {
    throw new UsageError(`no options are taken; ${USAGE}`);
  }
  const job = await readJob(USAGE);
  if (('decode' in job) === ('encode' in job)) {
    throw new UsageError(`the job needs exactly one of "decode" and "encode"; ${USAGE}`);
  }
  return 'decode' in job ? decode(job) : encode(job);
}

try {
  process.stdout.write(JSON.stringify(await main(process.argv.slice(2))) + '\n');
} catch (error) {
  const reason = error instanceof UsageError ? error.message : `failed: ${error.stack ?? error}`;
  process.stderr.write(`statuslist.mjs: ${reason}\n`);
  process.exitCode = 1;
}
