// What the interop scripts share: the offline document loader (the contexts vendored in
// credentials/contexts/, and did:key documents built from the key itself; nothing from the
// network), the error a job that cannot be used raises, and every reason a nested error holds.

import {readFileSync} from 'node:fs';

const CONTEXTS_DIR = new URL('../credentials/contexts/', import.meta.url);

// The same URL → file map as credentials/contexts.py (CONTEXT_FILES); the test suite checks
// that the two agree.
export const CONTEXT_FILES = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://www.w3.org/2018/credentials/v1': '2018-credentials-v1.jsonld',
  'https://w3id.org/security/data-integrity/v1': 'data-integrity-v1.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json': 'ob-v3p0-3.0.1.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-v3p0-3.0.3.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json': 'ob-v3p0-extensions.json',
  'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json': 'clr-v2p0-2.0.1.json',
  'https://w3id.org/security/suites/ed25519-2020/v1': 'ed25519-signature-2020-v1.jsonld',
};

export class UsageError extends Error {}

const DID_CONTEXT_V1 = 'https://www.w3.org/ns/did/v1';

// The JSON object a script's job is, read from stdin; ``usage`` ends a refusal's message.
export async function readJob(usage = '') {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const tail = usage ? `; ${usage}` : '';
  let job;
  try {
    job = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new UsageError(`the job on stdin is not JSON: ${error.message}${tail}`);
  }
  if (typeof job !== 'object' || job === null || Array.isArray(job)) {
    throw new UsageError(`the job on stdin must be a JSON object${tail}`);
  }
  return job;
}

// The DID document of a did:key whose one verification method is ``method`` (exported with
// its ``@context``, the key suite's, which the document names after the DID context).
export function didKeyDocument(did, method) {
  const {'@context': keyContext, ...methodInDid} = method;
  return {
    '@context': [DID_CONTEXT_V1, keyContext],
    id: did,
    verificationMethod: [methodInDid],
    assertionMethod: [method.id],
    authentication: [method.id],
    capabilityInvocation: [method.id],
    capabilityDelegation: [method.id],
  };
}

function readContext(url) {
  return JSON.parse(readFileSync(new URL(CONTEXT_FILES[url], CONTEXTS_DIR), 'utf8'));
}

// A document loader serving the vendored contexts, and the DID document of an Ed25519
// did:key and its one method as `didKeyDocuments(did)` builds them ({didDocument, method}).
export function offlineLoader(didKeyDocuments) {
  return async function documentLoader(url) {
    if (Object.hasOwn(CONTEXT_FILES, url)) {
      return {contextUrl: null, documentUrl: url, document: readContext(url)};
    }
    if (url.startsWith('did:key:z6Mk')) {
      const [did, fragment] = url.split('#');
      const {didDocument, method} = await didKeyDocuments(did);
      if (fragment === undefined) {
        return {contextUrl: null, documentUrl: url, document: didDocument};
      }
      if (method.id === url) {
        return {contextUrl: null, documentUrl: url, document: method};
      }
      throw new Error(`${url} names no verification method of ${did}`);
    }
    // No network: anything not vendored or derivable from a key is refused.
    throw new Error(`document loader refuses ${url}: not an allow-listed context or did:key`);
  };
}

// @digitalbazaar/vc nests the reasons (one per proof, one per credential); name them all.
export function messages(error) {
  if (!error) {
    return [];
  }
  const found = [];
  if (error.message) {
    found.push(error.message);
  }
  // jsonld's safe mode names what it would have dropped in `details.event`.
  const event = error.details?.event;
  if (event?.message) {
    found.push(`${event.message} ${JSON.stringify(event.details ?? {})}`);
  }
  for (const inner of error.errors ?? []) {
    found.push(...messages(inner));
  }
  // jsonld wraps what the document loader threw in `details.cause`.
  for (const cause of [error.cause, error.details?.cause]) {
    found.push(...messages(cause));
  }
  return found;
}

// The reasons of a @digitalbazaar/vc verification result, each once.
export function describe(result) {
  const reasons = [...messages(result.error)];
  for (const entry of result.results ?? []) {
    reasons.push(...messages(entry.error));
  }
  return [...new Set(reasons)].join('; ') || 'not verified (no reason given)';
}
