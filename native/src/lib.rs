//! The ledger's ingest hot path, compiled.
//!
//! `Preparer` does, for a whole batch and without the interpreter lock, what the Python
//! pipeline does event by event for the common case: parse, check the nesting depth,
//! validate against the catalogue's compiled schemas, compute the idempotency key, lift
//! the personal fields out, and later encrypt them and encode the stored record. Anything
//! unusual (an input it would refuse, a type it was not given) comes back as `None`, and
//! the Python pipeline, which stays the authority on every rejection, takes that input
//! through its own path. `chain_copy` hash-links a batch's rows and encodes them as one
//! binary COPY block.
//!
//! The pure-Python twin of both lives in `ledger/fastpath.py`; the same contract tests run
//! against the two.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use blake2::digest::{Update, VariableOutput};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NONCE_LEN: usize = 12;
// Nonces drawn from the operating system at a time.
const NONCES_PER_DRAW: usize = 256;
const KEY_LEN: usize = 16;
const HASH_LEN: usize = 32;
// An integral float this large was an integer literal past 64 bits: the Python parser
// refuses those, so such an input goes the Python way.
const BIG: f64 = 9.2e18;
// ledger.records.LEDGER_NAMESPACE
const LEDGER_NAMESPACE: [u8; 16] = [
    0x6f, 0x1d, 0x5c, 0x1e, 0x3b, 0x7a, 0x5d, 0x2e, 0x9a, 0x41, 0x0c, 0x8e, 0x7b, 0x2f, 0x4d, 0x10,
];

#[derive(Clone)]
enum Part {
    Key(String),
    Index(usize),
}

type Found = Vec<(Vec<Part>, Value)>;

struct EventType {
    validator: jsonschema::Validator,
    personal: Vec<Vec<String>>,
    // Issued credentials embedding a signed one are verified by the Python pipeline.
    embeds: bool,
}

struct Issuer {
    id: String,
    active: bool,
    types: HashSet<String>,
}

struct Parsed {
    event: Map<String, Value>,
    topic: String,
    key: [u8; KEY_LEN],
    subject: Option<String>,
    issuer: String,
    found: Found,
    // The input's length: the stored record is about as long (grown once, not doubled).
    size: usize,
}

/// Compiled schemas, limits and the registered issuers; prepares batches.
#[pyclass(frozen, module = "lll_native")]
struct Preparer {
    types: HashMap<String, EventType>,
    issuers: RwLock<HashMap<String, Issuer>>,
    max_bytes: usize,
    max_depth: usize,
}

/// A batch parsed by `Preparer.admit`, held until `Preparer.seal` encodes its records.
#[pyclass(module = "lll_native")]
struct Admitted {
    events: Vec<Option<Parsed>>,
    declined: Vec<usize>,
}

fn depth_ok(value: &Value, level: usize, limit: usize) -> bool {
    match value {
        Value::Object(map) => level <= limit && map.values().all(|v| depth_ok(v, level + 1, limit)),
        Value::Array(items) => level <= limit && items.iter().all(|v| depth_ok(v, level + 1, limit)),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => !(f.fract() == 0.0 && f.abs() >= BIG),
            _ => true,
        },
        _ => true,
    }
}

fn strip(node: &mut Value, template: &[String], here: &mut Vec<Part>, found: &mut Found) {
    let (head, rest) = (&template[0], &template[1..]);
    if head == "*" {
        if rest.is_empty() {
            return;
        }
        if let Value::Array(items) = node {
            for (i, item) in items.iter_mut().enumerate() {
                here.push(Part::Index(i));
                strip(item, rest, here, found);
                here.pop();
            }
        }
        return;
    }
    let Value::Object(map) = node else { return };
    if rest.is_empty() {
        if let Some(value) = map.shift_remove(head.as_str()) {
            let mut path = here.clone();
            path.push(Part::Key(head.clone()));
            found.push((path, value));
        }
    } else if let Some(child) = map.get_mut(head.as_str()) {
        here.push(Part::Key(head.clone()));
        strip(child, rest, here, found);
        here.pop();
    }
}

fn idempotency_key(source: &str, id: &str) -> [u8; KEY_LEN] {
    let mut h = blake2::Blake2bVar::new(KEY_LEN).expect("16 is a valid BLAKE2b length");
    h.update(source.as_bytes());
    h.update(b"\x00");
    h.update(id.as_bytes());
    let mut out = [0u8; KEY_LEN];
    h.finalize_variable(&mut out).expect("output length matches");
    out
}

/// RFC 4122 name-based (SHA-1) UUID of `name` in the ledger's namespace: the stream id.
fn stream_id(name: &str) -> [u8; 16] {
    let mut h = sha1::Sha1::new();
    Digest::update(&mut h, LEDGER_NAMESPACE);
    Digest::update(&mut h, name.as_bytes());
    let digest = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out[6] = (out[6] & 0x0f) | 0x50;
    out[8] = (out[8] & 0x3f) | 0x80;
    out
}

fn content_digest(topic: &str, key: &[u8], body: &[u8]) -> [u8; HASH_LEN] {
    let mut h = Sha256::new();
    Digest::update(&mut h, topic.as_bytes());
    Digest::update(&mut h, b"\x00");
    Digest::update(&mut h, key);
    Digest::update(&mut h, body);
    h.finalize().into()
}

fn found_json(found: &Found) -> Value {
    Value::Array(
        found
            .iter()
            .map(|(path, value)| {
                let parts = path
                    .iter()
                    .map(|p| match p {
                        Part::Key(k) => Value::String(k.clone()),
                        Part::Index(i) => Value::from(*i),
                    })
                    .collect();
                Value::Array(vec![Value::Array(parts), value.clone()])
            })
            .collect(),
    )
}

impl Preparer {
    fn parse(&self, raw: &[u8], issuers: &HashMap<String, Issuer>, channel: Option<&str>) -> Option<Parsed> {
        if raw.len() > self.max_bytes {
            return None;
        }
        let value: Value = serde_json::from_slice(raw).ok()?;
        if !depth_ok(&value, 1, self.max_depth) {
            return None;
        }
        let topic = value.get("type")?.as_str()?.to_owned();
        let etype = self.types.get(&topic)?;
        if !etype.validator.is_valid(&value) {
            return None;
        }
        let Value::Object(mut event) = value else { return None };
        let source = event.get("source")?.as_str()?;
        let issuer = issuers.get(source)?;
        if channel.is_some_and(|c| c != issuer.id) || !issuer.active || !issuer.types.contains(&topic) {
            return None;
        }
        let key = idempotency_key(source, event.get("id")?.as_str()?);
        let issuer = issuer.id.clone();
        let subject = match event.get("subject") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return None,
        };
        let data = event.get_mut("data")?;
        if etype.embeds && data.get("embedded").is_some() {
            return None;
        }
        let mut found = Found::new();
        for template in &etype.personal {
            strip(data, template, &mut Vec::new(), &mut found);
        }
        Some(Parsed { event, topic, key, subject, issuer, found, size: raw.len() })
    }
}

type Sealed = (Vec<u8>, [u8; HASH_LEN], [u8; 16]);

/// What sealing one batch's inputs shares: the learners' ciphers, the stream ids, and
/// nonces drawn from the operating system a few hundred at a time (one system call each
/// time, not one per input; each nonce is used once).
struct Sealing<'k> {
    keys: &'k HashMap<String, Vec<u8>>,
    ciphers: HashMap<String, Aes256Gcm>,
    streams: HashMap<String, [u8; 16]>,
    nonces: Vec<u8>,
}

impl<'k> Sealing<'k> {
    fn new(keys: &'k HashMap<String, Vec<u8>>) -> Self {
        Sealing { keys, ciphers: HashMap::new(), streams: HashMap::new(), nonces: Vec::new() }
    }

    fn nonce(&mut self) -> Result<[u8; NONCE_LEN], String> {
        if self.nonces.len() < NONCE_LEN {
            self.nonces = vec![0u8; NONCE_LEN * NONCES_PER_DRAW];
            getrandom::fill(&mut self.nonces).map_err(|e| e.to_string())?;
        }
        let rest = self.nonces.len() - NONCE_LEN;
        let nonce = self.nonces[rest..].try_into().expect("NONCE_LEN bytes");
        self.nonces.truncate(rest);
        Ok(nonce)
    }
}

fn seal_one(parsed: Parsed, now: &str, sealing: &mut Sealing<'_>) -> Result<Sealed, String> {
    let Parsed { mut event, topic, key, subject, issuer, found, size } = parsed;
    // An empty subject is no learner: the event goes to its issuer's stream.
    let name = match subject.as_deref() {
        Some(s) if !s.is_empty() => format!("learner:{s}"),
        _ => format!("issuer:{issuer}"),
    };
    // A batch repeats its learners: each stream id is hashed once.
    let stream = *sealing.streams.entry(name).or_insert_with_key(|name| stream_id(name));
    if !found.is_empty() {
        let learner = subject.filter(|s| !s.is_empty()).ok_or("personal data and no learner")?;
        if !sealing.ciphers.contains_key(&learner) {
            let data_key = sealing.keys.get(&learner).ok_or("personal data and no data key")?;
            let cipher = Aes256Gcm::new_from_slice(data_key).map_err(|_| "a data key is not 32 bytes")?;
            sealing.ciphers.insert(learner.clone(), cipher);
        }
        let plain = serde_json::to_vec(&found_json(&found)).map_err(|e| e.to_string())?;
        let mut aad = Vec::with_capacity(32);
        aad.extend_from_slice(&stream);
        aad.extend_from_slice(&key);
        let nonce = sealing.nonce()?;
        let sealed = sealing.ciphers[&learner]
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: &plain, aad: &aad })
            .map_err(|_| "encryption failed")?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        let text = base64::engine::general_purpose::STANDARD.encode(blob);
        event.insert("pd".to_owned(), Value::String(text));
    }
    event.insert("issuer".to_owned(), Value::String(issuer));
    event.insert("recordedAt".to_owned(), Value::String(now.to_owned()));
    // Room for the input, the sealed personal fields' text and the recorded-at time.
    let mut body = Vec::with_capacity(size + size / 2 + 128);
    serde_json::to_writer(&mut body, &Value::Object(event)).map_err(|e| e.to_string())?;
    let content = content_digest(&topic, &key, &body);
    Ok((body, content, stream))
}

fn fixed<const N: usize>(bytes: &[u8], what: &str) -> PyResult<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| PyValueError::new_err(format!("{what} must be {N} bytes, not {}", bytes.len())))
}

#[pymethods]
impl Preparer {
    /// `resources`: (uri, JSON text) of every schema document; `types`: (name, JSON text
    /// of the type's compiled wrapper schema, personal path templates, whether it may
    /// embed a signed credential), for the types this preparer may take; `max_bytes` and
    /// `max_depth`: the ingest limits.
    #[new]
    fn new(
        resources: Vec<(String, String)>,
        types: Vec<(String, String, Vec<Vec<String>>, bool)>,
        max_bytes: usize,
        max_depth: usize,
    ) -> PyResult<Self> {
        let bad = |e: &dyn std::fmt::Display| PyValueError::new_err(e.to_string());
        let mut documents = Vec::with_capacity(resources.len());
        for (uri, text) in resources {
            let doc: Value = serde_json::from_str(&text).map_err(|e| bad(&e))?;
            documents.push((uri, doc));
        }
        let registry = jsonschema::Registry::new()
            .extend(documents)
            .map_err(|e| bad(&e))?
            .prepare()
            .map_err(|e| bad(&e))?;
        let mut compiled = HashMap::new();
        for (name, text, personal, embeds) in types {
            let schema: Value = serde_json::from_str(&text).map_err(|e| bad(&e))?;
            let validator = jsonschema::options()
                .with_registry(&registry)
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|e| bad(&e))?;
            if personal.iter().any(|t| t.is_empty()) {
                return Err(PyValueError::new_err(format!("{name}: an empty personal path")));
            }
            compiled.insert(name, EventType { validator, personal, embeds });
        }
        Ok(Preparer { types: compiled, issuers: RwLock::new(HashMap::new()), max_bytes, max_depth })
    }

    /// Replace the registered issuers: (source, id, active, types) each. Safe beside an
    /// `admit` in another thread: the table is swapped once that admit's read is over.
    fn set_issuers(&self, py: Python<'_>, issuers: Vec<(String, String, bool, Vec<String>)>) {
        let table: HashMap<String, Issuer> = issuers
            .into_iter()
            .map(|(source, id, active, types)| (source, Issuer { id, active, types: types.into_iter().collect() }))
            .collect();
        // Waiting for the lock without the interpreter's: an admit holding the table
        // needs the interpreter back to finish, and would wait for this thread forever.
        py.detach(|| *self.issuers.write().expect("issuers lock") = table);
    }

    /// Parse, check, validate and authorise every input (`channel`: the issuer the
    /// channel authenticates, or None). Inputs it cannot take are `declined()`.
    fn admit(&self, py: Python<'_>, raws: &Bound<'_, PyList>, channel: Option<String>) -> PyResult<Admitted> {
        // The inputs are read in place, not copied: bytes and text objects are immutable,
        // and `items` holds a reference to each while the interpreter lock is released.
        let items: Vec<Bound<'_, PyAny>> = raws.iter().collect();
        // Anything but bytes or text is declined: the Python path says what it is.
        let views: Vec<Option<&[u8]>> = items
            .iter()
            .map(|raw| {
                if let Ok(b) = raw.cast::<PyBytes>() {
                    Some(b.as_bytes())
                } else if let Ok(text) = raw.cast::<PyString>() {
                    text.to_str().ok().map(str::as_bytes)
                } else {
                    None
                }
            })
            .collect();
        // The table is read (and its lock taken and released) without the interpreter's
        // lock: see `set_issuers`.
        let events: Vec<Option<Parsed>> = py.detach(|| {
            let issuers = self.issuers.read().expect("issuers lock");
            views
                .iter()
                .map(|raw| raw.and_then(|r| self.parse(r, &issuers, channel.as_deref())))
                .collect()
        });
        let declined = events.iter().enumerate().filter(|(_, e)| e.is_none()).map(|(i, _)| i).collect();
        Ok(Admitted { events, declined })
    }

    /// Encode the stored records of the admitted inputs still held. `keys`: the data key
    /// (32 bytes) of every learner whose events carry personal fields; `now`: the
    /// recorded-at time. Returns the sealed inputs as a `Run` (in input order, kept here,
    /// not as objects of the interpreter) and (index, reason) for each input that failed.
    fn seal(
        &self,
        py: Python<'_>,
        admitted: &mut Admitted,
        keys: HashMap<String, Vec<u8>>,
        now: &str,
    ) -> PyResult<(Run, Vec<(usize, String)>)> {
        let work: Vec<(usize, Parsed)> =
            admitted.events.iter_mut().enumerate().filter_map(|(i, e)| e.take().map(|p| (i, p))).collect();
        Ok(py.detach(|| {
            let mut sealing = Sealing::new(&keys);
            let mut named: HashMap<String, usize> = HashMap::new();
            let mut run = Run { indexes: Vec::with_capacity(work.len()), rows: Vec::with_capacity(work.len()), topics: Vec::new() };
            let mut failed = Vec::new();
            for (i, parsed) in work {
                let key = parsed.key;
                let topic = match named.get(&parsed.topic) {
                    Some(&n) => n,
                    None => {
                        run.topics.push(parsed.topic.clone());
                        named.insert(parsed.topic.clone(), run.topics.len() - 1);
                        run.topics.len() - 1
                    }
                };
                match seal_one(parsed, now, &mut sealing) {
                    Ok((body, content, stream)) => {
                        run.indexes.push(i);
                        run.rows.push(SealedRow { key, stream, topic, body, content });
                    }
                    Err(reason) => failed.push((i, reason)),
                }
            }
            (run, failed)
        }))
    }
}

/// One sealed input: the stored record's parts, ready for `plan_copy`.
struct SealedRow {
    key: [u8; KEY_LEN],
    stream: [u8; 16],
    // Index into the run's topics.
    topic: usize,
    body: Vec<u8>,
    content: [u8; HASH_LEN],
}

/// The inputs of a group `Preparer.seal` encoded, in input order, held as they are until
/// `plan_copy` writes them into a COPY block: the interpreter sees a row only when asked
/// (`columns`), as the Python pipeline's own appends do.
#[pyclass(frozen, module = "lll_native")]
struct Run {
    indexes: Vec<usize>,
    rows: Vec<SealedRow>,
    topics: Vec<String>,
}

impl Run {
    fn span(&self, start: usize, stop: Option<usize>) -> PyResult<std::ops::Range<usize>> {
        let stop = stop.unwrap_or(self.rows.len());
        if start > stop || stop > self.rows.len() {
            return Err(PyValueError::new_err(format!(
                "rows {start}..{stop} are not within the run's {}",
                self.rows.len()
            )));
        }
        Ok(start..stop)
    }
}

#[pymethods]
impl Run {
    fn __len__(&self) -> usize {
        self.rows.len()
    }

    /// The index of each sealed input in its group, in order.
    fn indexes(&self) -> Vec<usize> {
        self.indexes.clone()
    }

    /// The idempotency keys of rows `start` to `stop` (default: all).
    #[pyo3(signature = (start = 0, stop = None))]
    fn keys<'py>(&self, py: Python<'py>, start: usize, stop: Option<usize>) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        Ok(self.rows[self.span(start, stop)?].iter().map(|r| PyBytes::new(py, &r.key)).collect())
    }

    /// The stream ids (16 bytes) rows `start` to `stop` belong to, each once, in order.
    #[pyo3(signature = (start = 0, stop = None))]
    fn streams<'py>(&self, py: Python<'py>, start: usize, stop: Option<usize>) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let mut seen = HashSet::new();
        Ok(self.rows[self.span(start, stop)?]
            .iter()
            .filter(|r| seen.insert(r.stream))
            .map(|r| PyBytes::new(py, &r.stream))
            .collect())
    }

    /// Rows `start` to `stop` as columns: keys, streams, topics, bodies, content digests.
    #[pyo3(signature = (start = 0, stop = None))]
    fn columns<'py>(&self, py: Python<'py>, start: usize, stop: Option<usize>) -> PyResult<[Bound<'py, PyList>; 5]> {
        let columns = [(); 5].map(|_| PyList::empty(py));
        let names: Vec<Bound<'py, PyString>> = self.topics.iter().map(|t| PyString::new(py, t)).collect();
        for r in &self.rows[self.span(start, stop)?] {
            columns[0].append(PyBytes::new(py, &r.key))?;
            columns[1].append(PyBytes::new(py, &r.stream))?;
            columns[2].append(&names[r.topic])?;
            columns[3].append(PyBytes::new(py, &r.body))?;
            columns[4].append(PyBytes::new(py, &r.content))?;
        }
        Ok(columns)
    }
}

impl Admitted {
    /// (index, idempotency key) of the inputs held whose key passes `keep`, in input order.
    fn held_where<'py>(&self, py: Python<'py>, keep: impl Fn(&[u8]) -> bool) -> Vec<(usize, Bound<'py, PyBytes>)> {
        self.events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().filter(|p| keep(&p.key)).map(|p| (i, PyBytes::new(py, &p.key))))
            .collect()
    }
}

#[pymethods]
impl Admitted {
    /// The inputs the Python pipeline must take itself, in input order.
    fn declined(&self) -> Vec<usize> {
        self.declined.clone()
    }

    /// Every learner the held inputs concern, and those of them whose inputs carry
    /// personal fields (each once).
    fn subjects(&self) -> (Vec<String>, Vec<String>) {
        let (mut all, mut personal) = (HashSet::new(), HashSet::new());
        for p in self.events.iter().flatten() {
            if let Some(s) = &p.subject {
                all.insert(s.clone());
                if !p.found.is_empty() && !s.is_empty() {
                    personal.insert(s.clone());
                }
            }
        }
        (all.into_iter().collect(), personal.into_iter().collect())
    }

    /// (index, idempotency key) of the inputs held, in input order.
    fn held_keys<'py>(&self, py: Python<'py>) -> Vec<(usize, Bound<'py, PyBytes>)> {
        self.held_where(py, |_| true)
    }

    /// (index, idempotency key) of the inputs held whose key is one of `keys`, in input
    /// order: where a batch's corrections may find their targets, without a key object
    /// per input.
    fn held_among<'py>(&self, py: Python<'py>, keys: HashSet<Vec<u8>>) -> Vec<(usize, Bound<'py, PyBytes>)> {
        self.held_where(py, |key| keys.contains(key))
    }

    /// Give up the inputs of these learners (the Python pipeline takes them); their indexes.
    fn decline(&mut self, subjects: HashSet<String>) -> Vec<usize> {
        let mut given = Vec::new();
        for (i, slot) in self.events.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(|p| p.subject.as_ref().is_some_and(|s| subjects.contains(s))) {
                *slot = None;
                given.push(i);
            }
        }
        self.declined.extend(&given);
        self.declined.sort_unstable();
        given
    }
}

/// Hash-link rows after `prev` and encode them as one binary COPY block (header, rows of
/// position, stream, version, topic, state, trailer) for positions from `first`.
/// `rows`: a sequence of (stream id 16 bytes, version, topic, key, body, content digest),
/// read in place (not copied) while the block is built without the interpreter lock.
/// Returns the block, the rows' chain hashes (32 bytes each, concatenated) and the new head.
// A row's fields read in place: stream, version, topic, key, body, content digest.
type RowView<'a> = (&'a [u8], i64, &'a [u8], &'a [u8], &'a [u8], &'a [u8]);

fn bytes_of<'a>(field: &'a Bound<'_, PyAny>, what: &str) -> PyResult<&'a [u8]> {
    match field.cast::<PyBytes>() {
        Ok(b) => Ok(b.as_bytes()),
        Err(_) => Err(PyValueError::new_err(format!("{what} must be bytes"))),
    }
}

#[pyfunction]
fn chain_copy<'py>(
    py: Python<'py>,
    prev: &[u8],
    first: i64,
    rows: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let prev: [u8; HASH_LEN] = fixed(prev, "the previous hash")?;
    // Each row's fields, held here so the views below stay valid with the lock released.
    let mut held: Vec<[Bound<'py, PyAny>; 6]> = Vec::new();
    for row in rows.try_iter()? {
        let row = row?;
        let tuple = row.cast::<PyTuple>().map_err(|_| PyValueError::new_err("a row must be a tuple"))?;
        if tuple.len() != 6 {
            return Err(PyValueError::new_err(format!("a row has 6 fields, not {}", tuple.len())));
        }
        held.push([0, 1, 2, 3, 4, 5].map(|i| tuple.get_item(i).expect("index checked")));
    }
    let mut views: Vec<RowView<'_>> = Vec::with_capacity(held.len());
    for [stream, version, topic, key, body, content] in &held {
        let stream = bytes_of(stream, "a stream id")?;
        fixed::<16>(stream, "a stream id")?;
        let key = bytes_of(key, "a key")?;
        fixed::<KEY_LEN>(key, "a key")?;
        let content = bytes_of(content, "a content digest")?;
        fixed::<HASH_LEN>(content, "a content digest")?;
        let topic = topic.cast::<PyString>().map_err(|_| PyValueError::new_err("a topic must be text"))?;
        views.push((stream, version.extract()?, topic.to_str()?.as_bytes(), key, bytes_of(body, "a body")?, content));
    }
    let (block, hashes, head) =
        py.detach(|| encode_block(prev, first, views.iter().map(|&(s, v, t, k, b, c)| (s, v, t, k, b, c))));
    Ok((PyBytes::new(py, &block), PyBytes::new(py, &hashes), PyBytes::new(py, &head)))
}

/// Hash-link rows (stream, version, topic, key, body, content digest) after `prev` and
/// encode them as one binary COPY block for positions from `first`: the block, the chain
/// hashes concatenated, the new head.
fn encode_block<'a>(
    prev: [u8; HASH_LEN],
    first: i64,
    rows: impl ExactSizeIterator<Item = RowView<'a>> + Clone,
) -> (Vec<u8>, Vec<u8>, [u8; HASH_LEN]) {
    let mut head = prev;
    let size: usize = rows.clone().map(|r| 19 + 12 + 16 + 12 + r.2.len() + 4 + 80 + r.4.len()).sum();
    let mut block = Vec::with_capacity(size + 32);
    block.extend_from_slice(b"PGCOPY\n\xff\r\n\x00");
    block.extend_from_slice(&0i32.to_be_bytes());
    block.extend_from_slice(&0i32.to_be_bytes());
    let mut hashes = Vec::with_capacity(rows.len() * HASH_LEN);
    for (n, (stream, version, topic, key, body, content)) in rows.enumerate() {
        let mut h = Sha256::new();
        Digest::update(&mut h, head);
        Digest::update(&mut h, stream);
        Digest::update(&mut h, (version as u64).to_be_bytes());
        Digest::update(&mut h, content);
        let digest: [u8; HASH_LEN] = h.finalize().into();
        block.extend_from_slice(&5i16.to_be_bytes());
        block.extend_from_slice(&8i32.to_be_bytes());
        block.extend_from_slice(&(first + n as i64).to_be_bytes());
        block.extend_from_slice(&16i32.to_be_bytes());
        block.extend_from_slice(stream);
        block.extend_from_slice(&8i32.to_be_bytes());
        block.extend_from_slice(&version.to_be_bytes());
        block.extend_from_slice(&(topic.len() as i32).to_be_bytes());
        block.extend_from_slice(topic);
        block.extend_from_slice(&((2 * HASH_LEN + KEY_LEN + body.len()) as i32).to_be_bytes());
        block.extend_from_slice(&digest);
        block.extend_from_slice(&head);
        block.extend_from_slice(key);
        block.extend_from_slice(body);
        hashes.extend_from_slice(&digest);
        head = digest;
    }
    block.extend_from_slice(&(-1i16).to_be_bytes());
    (block, hashes, head)
}

// A sealed row read in place: stream, topic, key, body, content digest.
type SealedView<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8], &'a [u8]);

// What a part of `plan_copy` holds while the rows are read in place.
enum Held<'py> {
    Run(Bound<'py, Run>, std::ops::Range<usize>),
    Row([Bound<'py, PyAny>; 5]),
}

fn row_fields<'py>(row: &Bound<'py, PyAny>) -> PyResult<[Bound<'py, PyAny>; 5]> {
    let tuple = row.cast::<PyTuple>().map_err(|_| PyValueError::new_err("a row must be a tuple"))?;
    if tuple.len() != 5 {
        return Err(PyValueError::new_err(format!("a row has 5 fields, not {}", tuple.len())));
    }
    Ok([0, 1, 2, 3, 4].map(|i| tuple.get_item(i).expect("index checked")))
}

fn sealed_view<'a>(fields: &'a [Bound<'_, PyAny>; 5]) -> PyResult<SealedView<'a>> {
    let [key, stream, topic, body, content] = fields;
    let key = bytes_of(key, "a key")?;
    fixed::<KEY_LEN>(key, "a key")?;
    let stream = bytes_of(stream, "a stream id")?;
    fixed::<16>(stream, "a stream id")?;
    let content = bytes_of(content, "a content digest")?;
    fixed::<HASH_LEN>(content, "a content digest")?;
    let topic = topic.cast::<PyString>().map_err(|_| PyValueError::new_err("a topic must be text"))?;
    Ok((stream, topic.to_str()?.as_bytes(), key, bytes_of(body, "a body")?, content))
}

/// The parts of an append, read in place: each `(run, start, stop)` (rows of a `Run`, or
/// of any object whose `columns(start, stop)` gives the five columns) or a row `(key,
/// stream id, topic, body, content digest)`.
fn held_parts<'py>(parts: &Bound<'py, PyList>) -> PyResult<Vec<Held<'py>>> {
    let mut held = Vec::with_capacity(parts.len());
    for part in parts.iter() {
        let tuple = part.cast::<PyTuple>().map_err(|_| PyValueError::new_err("a part must be a tuple"))?;
        match tuple.len() {
            3 => {
                let (run, start, stop): (Bound<'py, PyAny>, usize, usize) = tuple.extract()?;
                if let Ok(native) = run.cast::<Run>() {
                    let span = native.get().span(start, Some(stop))?;
                    held.push(Held::Run(native.clone(), span));
                } else {
                    let columns: [Bound<'py, PyList>; 5] = run.call_method1("columns", (start, stop))?.extract()?;
                    for n in 0..columns[0].len() {
                        let row = [0, 1, 2, 3, 4].map(|c| columns[c].get_item(n));
                        let [a, b, c, d, e] = row;
                        held.push(Held::Row([a?, b?, c?, d?, e?]));
                    }
                }
            }
            5 => held.push(Held::Row(row_fields(&part)?)),
            n => return Err(PyValueError::new_err(format!("a part has 3 or 5 fields, not {n}"))),
        }
    }
    Ok(held)
}

/// Plan an append under the events table's lock and encode its new rows: `parts` (see
/// `held_parts`) in order; `existing`: the position of each key already stored; `heads`:
/// each stream's last version (16-byte id; absent: a new stream); new rows take positions
/// from `first` and are hash-linked after `prev`.
///
/// Returns the COPY block, the new rows' chain hashes, the new head, each event's
/// position, whether each is new (a byte each, 1 or 0), each event's version (0 for a
/// duplicate), and the last version of every stream written.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn plan_copy<'py>(
    py: Python<'py>,
    prev: &[u8],
    first: i64,
    parts: &Bound<'py, PyList>,
    existing: &Bound<'py, PyDict>,
    heads: &Bound<'py, PyDict>,
) -> PyResult<(
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Vec<i64>,
    Bound<'py, PyBytes>,
    Vec<i64>,
    Bound<'py, PyDict>,
)> {
    let prev: [u8; HASH_LEN] = fixed(prev, "the previous hash")?;
    let held = held_parts(parts)?;
    let mut views: Vec<SealedView<'_>> = Vec::new();
    for part in &held {
        match part {
            Held::Run(run, span) => {
                let run = run.get();
                views.extend(run.rows[span.clone()].iter().map(|r| {
                    (&r.stream[..], run.topics[r.topic].as_bytes(), &r.key[..], &r.body[..], &r.content[..])
                }));
            }
            Held::Row(fields) => views.push(sealed_view(fields)?),
        }
    }
    let n = views.len();
    let (mut positions, mut fresh, mut versions) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let mut placed: HashMap<&[u8], i64> = HashMap::with_capacity(n);
    let mut current: HashMap<&[u8], i64> = HashMap::new();
    let mut new: Vec<(usize, i64)> = Vec::with_capacity(n);
    let look_up = !existing.is_empty();
    for (i, &(stream, _, key, _, _)) in views.iter().enumerate() {
        let stored = if look_up { existing.get_item(PyBytes::new(py, key))? } else { None };
        let earlier = match stored {
            Some(position) => Some(position.extract::<i64>()?),
            None => placed.get(key).copied(),
        };
        if let Some(position) = earlier {
            positions.push(position);
            fresh.push(0u8);
            versions.push(0);
            continue;
        }
        let version = match current.get_mut(stream) {
            Some(last) => *last + 1,
            None => match heads.get_item(PyBytes::new(py, stream))? {
                Some(last) => last.extract::<i64>()? + 1,
                None => 1,
            },
        };
        current.insert(stream, version);
        let position = first + new.len() as i64;
        placed.insert(key, position);
        positions.push(position);
        fresh.push(1);
        versions.push(version);
        new.push((i, version));
    }
    let (block, hashes, head) = py.detach(|| {
        encode_block(
            prev,
            first,
            new.iter().map(|&(i, version)| {
                let (stream, topic, key, body, content) = views[i];
                (stream, version, topic, key, body, content)
            }),
        )
    });
    let ends = PyDict::new(py);
    for (stream, version) in current {
        ends.set_item(PyBytes::new(py, stream), version)?;
    }
    Ok((
        PyBytes::new(py, &block),
        PyBytes::new(py, &hashes),
        PyBytes::new(py, &head),
        positions,
        PyBytes::new(py, &fresh),
        versions,
        ends,
    ))
}

#[pymodule]
fn lll_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Preparer>()?;
    m.add_class::<Admitted>()?;
    m.add_class::<Run>()?;
    m.add_function(wrap_pyfunction!(chain_copy, m)?)?;
    m.add_function(wrap_pyfunction!(plan_copy, m)?)?;
    Ok(())
}
