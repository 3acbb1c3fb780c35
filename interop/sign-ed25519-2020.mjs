// Signs and verifies credentials with an Ed25519Signature2020 proof, the suite the Digital
// Credentials Consortium's issuers and the Learner Credential Wallet produce, using Digital
// Bazaar's @digitalbazaar/ed25519-signature-2020 through @digitalbazaar/vc: an
// implementation independent of the ledger's, for the tests of inbound credentials.
// Offline: the document loader serves only the contexts vendored in credentials/contexts/ and
// did:key documents built from the key itself.
//
//   node interop/sign-ed25519-2020.mjs             the job on stdin:
//     {"credential": {…unsigned VC…}, "seed": "<64 hex: a 32-byte Ed25519 seed>",
//      "created": "<optional RFC 3339 date-time, kept as given; now when absent>"}
//     prints the credential with a proof (assertionMethod, verificationMethod the seed's
//     did:key:z6Mk…#z6Mk…). The suite adds its context to a credential that lacks it, and
//     @digitalbazaar/vc adds an issuanceDate (now) to a VC 1.1 credential that has none.
//   node interop/sign-ed25519-2020.mjs --verify    the job on stdin: {"credential": {…}}
//     prints {"verified": bool, "error": "…"}; the issuer must be the key's DID.
//   node interop/sign-ed25519-2020.mjs --contexts  prints the served context URL → file map
//
// Exits 0 with the JSON on stdout; exits 1 with a message on stderr when the job is
// unusable or signing fails.

import * as vc from '@digitalbazaar/vc';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from '@digitalbazaar/ed25519-verification-key-2020';

import {
  CONTEXT_FILES,
  UsageError,
  describe,
  didKeyDocument,
  messages,
  offlineLoader,
  readJob,
} from './offline.mjs';

// RFC 3339 date-time (section 5.6), which xsd:dateTime also accepts.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// The DID document of a did:key (Ed25519 only) with its one Ed25519VerificationKey2020
// method, built from the key in the identifier, as the did:key method specifies.
function didKeyDocuments(did) {
  const fingerprint = did.slice('did:key:'.length);
  const key = Ed25519VerificationKey2020.fromFingerprint({fingerprint});
  key.controller = did;
  key.id = `${did}#${fingerprint}`;
  const method = key.export({publicKey: true, includeContext: true});
  const didDocument = didKeyDocument(did, method);
  return {didDocument, method};
}

const documentLoader = offlineLoader(didKeyDocuments);

function checkKeys(job, allowed) {
  const unknown = Object.keys(job).filter((name) => !allowed.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown job member(s) ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`,
    );
  }
  const {credential} = job;
  if (typeof credential !== 'object' || credential === null || Array.isArray(credential)) {
    throw new UsageError('the job needs a "credential" object');
  }
}

function seedBytes(seed) {
  if (typeof seed !== 'string' || !/^[0-9a-fA-F]{64}$/.test(seed)) {
    throw new UsageError('"seed" must be 64 hex digits (a 32-byte Ed25519 seed)');
  }
  return Uint8Array.from(Buffer.from(seed, 'hex'));
}

async function sign(job) {
  checkKeys(job, ['credential', 'seed', 'created']);
  const seed = seedBytes(job.seed);
  const proof = {};
  const {created} = job;
  if (created !== undefined) {
    const valid = typeof created === 'string' && RFC3339.test(created);
    if (!valid || Number.isNaN(Date.parse(created))) {
      throw new UsageError(
        `"created" must be an RFC 3339 date-time, got ${JSON.stringify(created)}`,
      );
    }
    // A proof option, so the literal is signed as given (the suite's `date` would be
    // rewritten to whole seconds in UTC).
    proof.created = created;
  }
  const {publicKeyMultibase} = await Ed25519VerificationKey2020.generate({seed});
  const key = await Ed25519VerificationKey2020.generate({
    seed,
    controller: `did:key:${publicKeyMultibase}`,
  });
  const suite = new Ed25519Signature2020({key, proof});
  return vc.issue({credential: job.credential, suite, documentLoader});
}

async function verify(job) {
  checkKeys(job, ['credential']);
  const suite = new Ed25519Signature2020();
  const result = await vc.verifyCredential({credential: job.credential, suite, documentLoader});
  return result.verified ? {verified: true} : {verified: false, error: describe(result)};
}

async function main(argv) {
  const usage = 'usage: node interop/sign-ed25519-2020.mjs [--verify | --contexts] < JOB.json';
  if (argv.length > 1) {
    throw new UsageError(usage);
  }
  switch (argv[0]) {
    case undefined:
      return sign(await readJob());
    case '--verify':
      return verify(await readJob());
    case '--contexts':
      return CONTEXT_FILES;
    default:
      throw new UsageError(`unknown option ${argv[0]}; ${usage}`);
  }
}

try {
  process.stdout.write(JSON.stringify(await main(process.argv.slice(2))) + '\n');
} catch (error) {
  const reason =
    error instanceof UsageError ? error.message : `signing failed: ${messages(error).join('; ')}`;
  process.stderr.write(`sign-ed25519-2020.mjs: ${reason}\n`);
  process.exitCode = 1;
}
