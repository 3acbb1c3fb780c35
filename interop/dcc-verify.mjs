// Verifies one of the ledger's signed credentials with the Digital Credentials Consortium's
// verifier (@digitalcredentials/verifier-core, what the DCC's VerifierPlus and Learner Credential
// Wallet run): eddsa-rdfc-2022 and Ed25519Signature2020 proofs, validity dates, Bitstring
// Status List entries, issuer registries. For tests/integration/test_dcc_interop.py. Offline.
//
//   node interop/dcc-verify.mjs < JOB.json
//     {"credential": {…}, "documents": {URL or did:web DID: {…}}}   ("documents" optional)
//
// verifier-core takes no document loader: it builds its own at import (its static contexts,
// did:key and did:web resolvers, and http(s) fetched with @digitalcredentials/http-client, which
// is ky over the global fetch()); status list credentials come through that loader, issuer
// registries through fetch() itself. So the global fetch() is replaced, before verifier-core is
// imported, by offline.mjs's offlineFetch: the contexts vendored in credentials/contexts/ (for
// those verifier-core does not carry, e.g. CLR 2.0) and the job's documents, a did:web DID's
// document at its https://…/did.json URL; anything else is answered 404 and listed in
// "refused". No issuer registry is named, so none is consulted.
//
// Prints, exit 0:
//   {"verified": bool, "revoked": bool|null, "suspended": bool|null,
//    "checks": {name: {"valid": bool, "message"?: "…", …}}, "errors": [{"name", "message"}],
//    "refused": [URLs asked for and not served], "raw": verifier-core's result}
// "checks" has one member per step verifier-core logged (valid_signature, expiration,
// revocation_status, suspension_status, registered_issuer) and schema_check when it checked
// a JSON schema. "revoked"/"suspended" are null when the credential has no entry of that purpose
// or its list could not be read. Exits 1 with a message on stderr when the job is unusable.

import {UsageError, jobDocuments, messages, offlineFetch, readJob} from './offline.mjs';

const USAGE =
  'usage: node interop/dcc-verify.mjs < JOB.json, the job {"credential": {…}, "documents": {…}}';

// Steps that say nothing about this credential's own validity: no registry is configured, so
// registered_issuer is always false; it is reported, not counted.
const NOT_COUNTED = new Set(['registered_issuer']);

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function statusPurposes(credential) {
  const entries = [credential.credentialStatus ?? []].flat();
  return new Set(entries.filter(isObject).map((entry) => entry.statusPurpose));
}

// verifier-core's log as {step: {valid, …}}; a step it logged as an error (a status list it
// could not read) is invalid with that error's name and message.
function checksOf(result) {
  const checks = {};
  for (const step of result.log ?? []) {
    const {id, valid, error, ...rest} = step;
    checks[id] = error
      ? {valid: false, name: error.name, message: error.message}
      : {valid: valid === true, ...rest};
  }
  for (const entry of result.additionalInformation ?? []) {
    if (entry.id !== 'schema_check' || entry.results === 'NO_SCHEMA') {
      continue;
    }
    if (Array.isArray(entry.results)) {
      const failed = entry.results.filter((found) => found.result?.valid !== true);
      checks.schema_check = {valid: failed.length === 0, results: entry.results};
    } else {
      // A schema it could not load (offline, the 1EdTech schemas are not served).
      checks.schema_check = {valid: false, message: String(entry.results)};
    }
  }
  return checks;
}

// Whether the list says the entry of `purpose` applies: null without such an entry or when
// the list could not be read (the step then carries an error, not a verdict).
function statusOf(checks, purposes, purpose) {
  const step = checks[`${purpose}_status`];
  if (!purposes.has(purpose) || step === undefined || 'name' in step) {
    return null;
  }
  return !step.valid;
}

function errorsOf(result) {
  const errors = (result.errors ?? []).map(({name, message, stackTrace}) => ({
    name: name ?? 'error',
    message: [message, ...messages(stackTrace)].filter(Boolean).join('; '),
  }));
  // An error @digitalcredentials/vc threw that verifier-core neither classified nor removed
  // (a credential not yet valid: validFrom in the future) stays in `error`, with no log.
  if (result.error) {
    errors.push({name: result.error.name ?? 'error', message: messages(result.error).join('; ')});
  }
  return errors;
}

// Drop what does not serialise (stack traces, the credential echoed back).
function rawOf(result) {
  const {credential: _credential, ...rest} = result;
  return JSON.parse(
    JSON.stringify(rest, (key, value) => {
      if (key === 'stackTrace' || (key === 'error' && value instanceof Error)) {
        return value instanceof Error ? messages(value) : undefined;
      }
      return value;
    }),
  );
}

async function main(argv) {
  if (argv.length > 0) {
    throw new UsageError(`no options are taken; ${USAGE}`);
  }
  const job = await readJob(USAGE);
  if (!isObject(job.credential)) {
    throw new UsageError(`the job needs a "credential" object; ${USAGE}`);
  }
  const unknown = Object.keys(job).filter((name) => !['credential', 'documents'].includes(name));
  if (unknown.length > 0) {
    throw new UsageError(`unknown member(s) ${unknown.join(', ')} of the job; ${USAGE}`);
  }
  const refused = [];
  globalThis.fetch = offlineFetch(jobDocuments(job), refused);
  // verifier-core and its registry client log to the console; stdout carries only the verdict.
  console.log = console.error;
  // Imported only now: verifier-core builds its loader and registry client at import.
  const {verifyCredential} = await import('@digitalcredentials/verifier-core');
  const result = await verifyCredential({credential: job.credential, knownDIDRegistries: []});

  const checks = checksOf(result);
  const errors = errorsOf(result);
  const purposes = statusPurposes(job.credential);
  // Verified: no fatal error (a bad signature, an unresolvable key, a malformed credential
  // are fatal and leave no log), the signature step logged valid, and every other logged step
  // valid: not expired, and no status entry revoked or suspended or unreadable. The schema
  // check (only run for OpenBadgeCredential types) and the issuer registry are reported only.
  const counted = Object.entries(checks).filter(
    ([name]) => !NOT_COUNTED.has(name) && name !== 'schema_check',
  );
  const verified =
    errors.length === 0 &&
    checks.valid_signature?.valid === true &&
    counted.every(([, check]) => check.valid === true);
  return {
    verified,
    revoked: statusOf(checks, purposes, 'revocation'),
    suspended: statusOf(checks, purposes, 'suspension'),
    checks,
    errors,
    refused,
    raw: rawOf(result),
  };
}

try {
  process.stdout.write(JSON.stringify(await main(process.argv.slice(2))) + '\n');
} catch (error) {
  const reason = error instanceof UsageError ? error.message : `failed: ${error.stack ?? error}`;
  process.stderr.write(`dcc-verify.mjs: ${reason}\n`);
  process.exitCode = 1;
}
