// What the interop scripts share: the offline document loader (the contexts vendored in
// credentials/contexts/, did:key documents built from the key itself, and the documents a job
// hands in: did:web DID documents and any other URL's; nothing from the network), the same
// documents as a stand-in for fetch() for libraries that bring their own loader, the error a
// job that cannot be used raises, and every reason a nested error holds.

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
const MULTIKEY_CONTEXT_V1 = 'https://w3id.org/security/multikey/v1';
// The context a verification method of a DID document is served with, by its type (as
// @digitalbazaar's did-method-web does); other types get the DID document's own.
const KEY_CONTEXTS = {
  Multikey: MULTIKEY_CONTEXT_V1,
  Ed25519VerificationKey2020: 'https://w3id.org/security/suites/ed25519-2020/v1',
};

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// The "documents" of a job, {URL: JSON document}: the DID documents of did:web DIDs (keyed by
// the DID) and any other document by its URL (e.g. a status list credential). Absent: none.
export function jobDocuments(job) {
  const documents = job.documents ?? {};
  if (!isObject(documents)) {
    throw new UsageError('"documents" must be an object {URL: JSON document}');
  }
  for (const [url, document] of Object.entries(documents)) {
    if (!isObject(document)) {
      throw new UsageError(`"documents": the document of ${url} must be a JSON object`);
    }
    if (url.startsWith('did:') && (!url.startsWith('did:web:') || url.includes('#'))) {
      throw new UsageError(
        `"documents": ${url} is not a did:web DID (a did:key document comes from the key; ` +
          'a method is served from its DID document)',
      );
    }
  }
  return documents;
}

// Where a did:web DID's document lives (did:web method, "Read"): the host (a port as %3A),
// then /.well-known/did.json, or the path's segments then /did.json.
export function didWebUrl(did) {
  const [host, ...path] = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const tail = path.length === 0 ? '.well-known/did.json' : `${path.join('/')}/did.json`;
  return `https://${host}/${tail}`;
}

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

// A document loader serving the vendored contexts, the DID document of an Ed25519 did:key
// and its one method as `didKeyDocuments(did)` builds them ({didDocument, method}), and the
// job's `documents` (see jobDocuments): a did:web DID's document, one of its verification
// methods by `DID#fragment` (with its key type's @context, as the suites load a method), and
// any other URL's document as given.
export function offlineLoader(didKeyDocuments, documents = {}) {
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
    if (url.startsWith('did:web:')) {
      const [did, fragment] = url.split('#');
      if (!Object.hasOwn(documents, did)) {
        throw new Error(`document loader refuses ${url}: the job serves no DID document of ${did}`);
      }
      const didDocument = documents[did];
      if (fragment === undefined) {
        return {contextUrl: null, documentUrl: url, document: didDocument};
      }
      const methods = Array.isArray(didDocument.verificationMethod)
        ? didDocument.verificationMethod
        : [];
      const method = methods.find((candidate) => candidate?.id === url);
      if (method === undefined) {
        throw new Error(`${url} names no verification method of ${did}`);
      }
      const context = KEY_CONTEXTS[method.type] ?? didDocument['@context'];
      return {contextUrl: null, documentUrl: url, document: {'@context': context, ...method}};
    }
    if (Object.hasOwn(documents, url)) {
      return {contextUrl: null, documentUrl: url, document: documents[url]};
    }
    // No network: anything not vendored, derivable from a key or in the job is refused.
    throw new Error(
      `document loader refuses ${url}: not an allow-listed context, a did:key or a job document`,
    );
  };
}

// A stand-in for fetch() answering GETs from the vendored contexts and the job's `documents`
// (a did:web DID's document at its https URL, see didWebUrl), for libraries whose document
// loader and DID resolvers cannot be handed one of ours. Any other URL is answered 404 and
// noted in `refused`; nothing reaches the network.
export function offlineFetch(documents, refused) {
  const served = new Map();
  for (const [url, document] of Object.entries(documents)) {
    served.set(url.startsWith('did:web:') ? didWebUrl(url) : url, document);
  }
  return async function fetch(resource) {
    const url = typeof resource === 'string' ? resource : (resource.url ?? String(resource));
    let document;
    if (Object.hasOwn(CONTEXT_FILES, url)) {
      document = readContext(url);
    } else if (served.has(url)) {
      document = served.get(url);
    } else {
      refused.push(url);
      const body = {message: `offline: ${url} is not an allow-listed context or a job document`};
      return Response.json(body, {status: 404});
    }
    return Response.json(document);
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
