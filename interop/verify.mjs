// Verifies one of the ledger's signed credentials with independent implementations:
// jose (panva) for VC-JWT, Digital Bazaar's @digitalbazaar/vc with the eddsa-rdfc-2022
// cryptosuite for Data Integrity proofs. Offline: the document loader serves only the
// contexts vendored in credentials/contexts/, did:key documents built from the key itself
// and the documents the job hands in (did:web DID documents, status lists: see offline.mjs).
//
//   node interop/verify.mjs [JOB.json]        (the job on stdin when no file is given)
//
// Jobs:
//   {"kind": "jwt", "token": "…", "jwk": {…public JWK…}, "alg": "EdDSA" | "RS256"}
//   {"kind": "data-integrity", "credential": {…}, "documents": {URL or did:web DID: {…}}}
//     ("documents" optional)
//   {"kind": "contexts"}   lists the served context URLs (tests compare them with contexts.py)
//
// Prints {"verified": bool, "error": "…"} (plus "contexts" for that job, and for a credential
// with a credentialStatus "status": [{"purpose": …, "set": bool}] read from its lists, which
// the job's documents must hold) and exits 0;
// exits 1 with a message on stderr when the job itself is unusable.

import {readFileSync} from 'node:fs';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {importJWK, jwtVerify} from 'jose';

import {
  CONTEXT_FILES,
  UsageError,
  describe,
  didKeyDocument,
  jobDocuments,
  offlineLoader,
} from './offline.mjs';

const MULTIKEY_CONTEXT_V1 = 'https://w3id.org/security/multikey/v1';

// The DID document of a did:key (Ed25519 only) and its one verification method, built
// from the key in the identifier itself, as the did:key method specifies.
async function didKeyDocuments(did) {
  const multibase = did.slice('did:key:'.length);
  const keyPair = await Ed25519Multikey.from({
    '@context': MULTIKEY_CONTEXT_V1,
    type: 'Multikey',
    id: `${did}#${multibase}`,
    controller: did,
    publicKeyMultibase: multibase,
  });
  const method = await keyPair.export({publicKey: true, includeContext: true});
  const didDocument = didKeyDocument(did, method);
  return {didDocument, method};
}

async function verifyDataIntegrity(job) {
  if (typeof job.credential !== 'object' || job.credential === null) {
    throw new UsageError('a data-integrity job needs a "credential" object');
  }
  const documentLoader = offlineLoader(didKeyDocuments, jobDocuments(job));
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const result = await vc.verifyCredential({
    credential: job.credential,
    suite,
    documentLoader,
    // Digital Bazaar's own Bitstring Status List check: it verifies the list credential
    // (served from the job's documents) and its issuer, and reads the entry's bit.
    checkStatus,
  });
  const verdict = result.verified ? {verified: true} : {verified: false, error: describe(result)};
  const statuses = result.statusResult?.results;
  if (Array.isArray(statuses)) {
    // One per entry: its purpose and whether its bit is set (revoked, or suspended).
    verdict.status = statuses.map((entry) => ({
      purpose: entry.credentialStatus?.statusPurpose ?? null,
      set: entry.status ?? null,
    }));
  }
  return verdict;
}

async function verifyJwt(job) {
  if (typeof job.token !== 'string' || typeof job.jwk !== 'object' || job.jwk === null) {
    throw new UsageError('a jwt job needs a "token" string and a "jwk" object');
  }
  if (!['EdDSA', 'RS256'].includes(job.alg)) {
    throw new UsageError('a jwt job needs "alg": "EdDSA" or "RS256"');
  }
  try {
    const key = await importJWK(job.jwk, job.alg);
    await jwtVerify(job.token, key, {algorithms: [job.alg]});
    return {verified: true};
  } catch (error) {
    return {verified: false, error: `${error.code ?? error.name}: ${error.message}`};
  }
}

async function readJob(argv) {
  if (argv.length > 1) {
    throw new UsageError('usage: node interop/verify.mjs [JOB.json]');
  }
  let text;
  if (argv.length === 1) {
    text = readFileSync(argv[0], 'utf8');
  } else {
    const chunks = [];
    for await (const chunk of process.stdin) {
      chunks.push(chunk);
    }
    text = Buffer.concat(chunks).toString('utf8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the job is not JSON: ${error.message}`);
  }
}

async function main() {
  const job = await readJob(process.argv.slice(2));
  switch (job?.kind) {
    case 'jwt':
      return verifyJwt(job);
    case 'data-integrity':
      return verifyDataIntegrity(job);
    case 'contexts':
      return {verified: true, contexts: CONTEXT_FILES};
    default:
      throw new UsageError('"kind" must be "jwt", "data-integrity" or "contexts"');
  }
}

try {
  process.stdout.write(JSON.stringify(await main()) + '\n');
} catch (error) {
  process.stderr.write(`verify.mjs: ${error.message}\n`);
  process.exitCode = 1;
}
