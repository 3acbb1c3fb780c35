"""Entry point of the ``ledger`` command: argument parsing and dispatch."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Iterator, Sequence

from cli.arguments import add_bench_commands, add_json, at_least_one
from consumers.settings import KafkaSettings
from credentials.errors import CredentialError
from ledger.errors import ConfigurationError, LedgerError

Handler = Callable[[argparse.Namespace], int]


class _Handlers:
    """A module's command handlers, imported when a command runs rather than when the parser
    is built: `ledger publish` (one process per issuer) then loads the producer's side only,
    not the ledger, the credential checks and the read models every other command needs."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Handler:
        module = self._module

        def handler(args: argparse.Namespace) -> int:
            run: Handler = getattr(importlib.import_module(module), name)
            return run(args)

        handler.__qualname__ = f"{module}.{name}"
        return handler


class _ProjectionNames:
    """The read models `--name` accepts, looked up in cli.projections only when a command
    names one (or asks for help)."""

    def _names(self) -> list[str]:
        return sorted(importlib.import_module("cli.projections").PROJECTIONS)

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def build_parser() -> argparse.ArgumentParser:
    c = _Handlers("cli.commands")
    cn = _Handlers("cli.consent")
    ex = _Handlers("cli.export")
    pr = _Handlers("cli.projections")
    sv = _Handlers("cli.serve")

    parser = argparse.ArgumentParser(
        prog="ledger",
        description="Lifelong Learner Ledger: an append-only, tamper-evident record of "
        "lifelong learning and work. Configured by LEDGER_* environment variables "
        "(LEDGER_DATABASE_URL, LEDGER_MASTER_KEY, LEDGER_DATA_DIR, LEDGER_SIGNING_KEY_FILE).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("schemas", help="list event types, or show one schema")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.add_parser("list", help="list the event types (the default)")
    show = s.add_parser("show", help="print one event type's JSON Schema")
    show.add_argument("type", help="event type, e.g. org.lll.learning.course-completed.v1")
    add_json(p)
    p.set_defaults(handler=c.schemas)

    p = sub.add_parser("issuers", help="manage the issuer registry")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = s.add_parser("add", help="register an issuer (or update its registration)")
    add.add_argument("id", help="short id, e.g. uni-north (also names its Kafka topic)")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--source", required=True, help="the CloudEvents source its events carry")
    add.add_argument("--kind", required=True, choices=["institution", "employer"])
    add.add_argument(
        "--types",
        nargs="+",
        help="categories (learning, work, credentials, corrections) or type names; default by kind",
    )
    add.add_argument(
        "--did",
        action="append",
        metavar="DID",
        help="a DID (or https URL) the issuer signs its credentials as; repeat for several. "
        "A credential embedded in its events must name one as issuer and be signed by its key",
    )
    add_json(add)
    lst = s.add_parser("list", help="list registered issuers")
    add_json(lst)
    sus = s.add_parser("suspend", help="stop accepting events from an issuer")
    sus.add_argument("id")
    add_json(sus)
    p.set_defaults(handler=c.issuers)

    p = sub.add_parser("ingest", help="ingest a JSONL file of CloudEvents")
    p.add_argument("file", help="one CloudEvent per line")
    p.add_argument(
        "--issuer", help="authenticate every line as this issuer (default: trust each source)"
    )
    p.add_argument("--rejects", help="where rejected lines go (default: FILE.rejects.jsonl)")
    p.add_argument("--batch-size", type=int, help="events per append (default LEDGER_BATCH_SIZE)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--prepare-process",
        action="store_true",
        help="parse, validate and encrypt in a worker process beside the appends (long files)",
    )
    add_json(p)
    p.set_defaults(handler=c.ingest)

    p = sub.add_parser("consume", help="run a Kafka ingest worker (one member of the group)")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default LEDGER_KAFKA_BOOTSTRAP)")
    p.add_argument("--group", help="consumer group (default LEDGER_KAFKA_GROUP)")
    p.add_argument("--issuer", nargs="+", help="read only these issuers' topics (default: all)")
    p.add_argument("--dead-letter-topic", help="default LEDGER_KAFKA_DEAD_LETTER_TOPIC")
    p.add_argument(
        "--batch-size",
        type=int,
        help=f"most messages per append (default {KafkaSettings.batch_size}, "
        "or LEDGER_BATCH_SIZE if larger)",
    )
    p.add_argument("--client-id", help="shows in the broker's consumer-group tools")
    p.add_argument(
        "--instance-id", help="static group membership id (a restart keeps its partitions)"
    )
    p.add_argument(
        "--session-timeout-ms", type=int, help="how long the group waits for a silent member"
    )
    p.add_argument(
        "--prepare",
        choices=("auto", "process", "thread"),
        default="auto",
        help="where batches are parsed, validated and encrypted: a child process (uses a"
        " second core) or a thread of the worker; auto (default): a thread when the compiled"
        " preparer is in use, else a child process",
    )
    p.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port")
    p.add_argument("--metrics-host", default="127.0.0.1", help="address for /metrics")
    p.add_argument(
        "--stats-interval", type=float, default=10.0, help="seconds between JSON stats lines"
    )
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=c.consume)

    p = sub.add_parser("publish", help="publish a JSONL file to an issuer's Kafka topic")
    p.add_argument("file")
    p.add_argument("--issuer", required=True, help="the issuer whose topic to write")
    p.add_argument("--bootstrap")
    p.add_argument("--rate", type=float, help="pace the sends: messages per second")
    add_json(p)
    p.set_defaults(handler=c.publish)

    p = sub.add_parser("topics", help="create the issuer and dead-letter topics")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ens = s.add_parser("ensure", help="create missing topics for every registered issuer")
    ens.add_argument("--partitions", type=int, default=4)
    ens.add_argument("--bootstrap")
    p.set_defaults(handler=c.topics)

    p = sub.add_parser("audit", help="auditor tools")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ver = s.add_parser("verify", help="re-check the whole hash chain; exit 1 naming the failure")
    ver.add_argument("--no-progress", action="store_true")
    add_json(ver)
    sign = s.add_parser(
        "checkpoint", help="sign a checkpoint of the log now and print it (C2SP signed note)"
    )
    sign.add_argument("--out", help="also save it to this file (for `audit check` later)")
    add_json(sign)
    add_json(s.add_parser("log-key", help="print the log's verifier key (C2SP vkey)"))
    prove = s.add_parser("prove", help="prove an event is in the log's Merkle tree (RFC 9162)")
    prove.add_argument("--position", type=at_least_one, required=True, help="the event's position")
    prove.add_argument(
        "--size", type=at_least_one, help="the tree size (default: the first checkpoint holding it)"
    )
    add_json(prove)
    check = s.add_parser(
        "check",
        help="prove the log extends a checkpoint saved earlier and re-check every event; "
        "exit 1 naming the failure",
    )
    check.add_argument("--checkpoint", required=True, help="the saved checkpoint (a signed note)")
    check.add_argument(
        "--log-key", help="the log's verifier key or a file holding it (default: this ledger's)"
    )
    check.add_argument("--no-progress", action="store_true")
    add_json(check)
    witness = s.add_parser(
        "witness",
        help="fetch a log's latest checkpoint, check it extends the last one seen, co-sign it",
    )
    witness.add_argument("url", help="the ledger server's address, e.g. https://ledger.example.org")
    witness.add_argument(
        "--state", required=True, help="the witness's folder (keys, last checkpoint)"
    )
    witness.add_argument("--log-key", help="the log's verifier key (needed at the first run)")
    witness.add_argument("--name", help="the witness's key name at the first run")
    witness.add_argument(
        "--submit", action="store_true", help="hand the cosignature to the log, which serves it"
    )
    add_json(witness)
    p.set_defaults(handler=c.audit)

    p = sub.add_parser("erase", help="crypto-shred a learner's personal data")
    p.add_argument("--learner", required=True, help="the learner's ledger id")
    add_json(p)
    p.set_defaults(handler=c.erase)

    p = sub.add_parser("show", help="print a learner's events (decrypted where possible)")
    p.add_argument("--learner", required=True)
    add_json(p)
    p.set_defaults(handler=c.show)

    p = sub.add_parser("projections", help="read models that follow the log")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    st = s.add_parser("status", help="position and lag of each projection")
    add_json(st)
    run = s.add_parser("run", help="catch up with the log (and keep following with --follow)")
    run.add_argument("--follow", action="store_true", help="keep following until SIGTERM")
    run.add_argument("--poll", type=float, default=0.5, help="seconds between checks")
    reb = s.add_parser(
        "rebuild",
        help="project the whole log again beside the read model, then swap it in",
    )
    reb.add_argument(
        "--workers",
        type=at_least_one,
        default=None,
        help="processes sharing a rebuild, this one included (default: one per core, at most 2)",
    )
    for q in (st, run, reb):
        q.add_argument(
            "--name",
            choices=_ProjectionNames(),
            metavar="NAME",
            help="one projection only: %(choices)s",
        )
    for q in (run, reb):
        q.add_argument("--no-progress", action="store_true")
        q.add_argument(
            "--page",
            type=int,
            help="log rows per transaction (default: 500 on SQLite, 2000 on PostgreSQL)",
        )
    p.set_defaults(handler=pr.projections)

    p = sub.add_parser("record", help="a learner's comprehensive record (JSON)")
    p.add_argument("--learner", required=True)
    p.add_argument("--no-catch-up", action="store_true", help="read the record as projected")
    p.set_defaults(handler=pr.record)

    p = sub.add_parser("replay", help="a learner's record as it stood then, from the log alone")
    p.add_argument("--learner", required=True)
    cut = p.add_mutually_exclusive_group(required=True)
    cut.add_argument("--at-sequence", type=int, help="last global position to include")
    cut.add_argument("--as-of", help="last recording time to include (RFC 3339, e.g. …Z)")
    p.set_defaults(handler=pr.replay)

    p = sub.add_parser("consent", help="learners grant and revoke; verifiers read under consent")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    gr = s.add_parser("grant", help="grant a verifier access to part of the record")
    gr.add_argument("--grantee-id", required=True)
    gr.add_argument("--grantee-name", required=True)
    gr.add_argument("--purpose", nargs="+", required=True, help="e.g. recruitment, or an IRI")
    gr.add_argument("--category", nargs="+", choices=["learning", "work", "credentials", "skills"])
    gr.add_argument("--item", nargs="+", help="specific items as SOURCE,ID")
    gr.add_argument(
        "--expires", required=True, help="RFC 3339 date-time, e.g. 2027-01-01T00:00:00Z"
    )
    gr.add_argument("--notice-url", required=True, help="the privacy notice the learner saw")
    gr.add_argument("--jurisdiction", required=True, help="ISO 3166-1 alpha-2 country code")
    rv = s.add_parser("revoke", help="withdraw a consent; takes effect at once")
    rv.add_argument("--consent", required=True)
    s.add_parser("list", help="the learner's consents, disclosures and exports")
    vw = s.add_parser("view", help="a verifier's read under a consent (recorded as a disclosure)")
    vw.add_argument("--consent", required=True)
    vw.add_argument("--purpose", required=True, help="why the verifier reads")
    for q in (gr, rv, s.choices["list"], vw):
        q.add_argument("--learner", required=True)
    p.set_defaults(handler=cn.consent)

    p = sub.add_parser("keys", help="key management")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s.add_parser("generate", help="print a new random master key (base64)")
    p.set_defaults(handler=c.keys)
    sk = s.add_parser(
        "signing-key", help="write a new Ed25519 signing key for exports (PEM, mode 0600)"
    )
    sk.add_argument("--out", required=True, help="the key file (not overwritten)")
    sk.set_defaults(handler=ex.signing_key)
    rot = s.add_parser(
        "rotate",
        help="replace the signing key (LEDGER_SIGNING_KEY_FILE) by a new one; the old public "
        "key stays in the log and the DID document, so what it signed still verifies",
    )
    add_json(rot)
    rot.set_defaults(handler=ex.rotate)

    p = sub.add_parser("export", help="a learner's record as a signed CLR 2.0 (personal data)")
    p.add_argument("--learner", required=True)
    p.add_argument("--out", required=True, help="the file to write (mode 0600)")
    p.add_argument(
        "--format",
        choices=("di", "jwt"),
        default="di",
        help="outer credential as Data Integrity JSON (default) or VC-JWT",
    )
    p.add_argument(
        "--scope", nargs="+", metavar="CREDENTIAL_ID", help="export only these credentials"
    )
    p.set_defaults(handler=ex.export)

    p = sub.add_parser(
        "withdraw-export",
        help="withdraw one of a learner's exports: its ClrCredential reads as revoked from then on",
    )
    p.add_argument("--learner", required=True)
    p.add_argument("--export", required=True, metavar="EXPORT_ID", help="as `export` printed it")
    p.add_argument("--reason", help="why (kept as the learner's personal data)")
    add_json(p)
    p.set_defaults(handler=ex.withdraw)

    p = sub.add_parser("verify", help="verify an exported credential and all it holds")
    p.add_argument("file", help="a JSON credential or a VC-JWT")
    p.set_defaults(handler=ex.verify)

    p = sub.add_parser(
        "serve", help="run the HTTP API and the web pages (uvicorn; LEDGER_API_TOKEN_KEYS_FILE)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )
    p.set_defaults(handler=sv.serve)

    p = sub.add_parser("token", help="mint an API bearer token (development), or print --jwks")
    p.add_argument("--key-file", required=True, help="Ed25519 private key (PEM PKCS#8)")
    p.add_argument(
        "--role", choices=("issuer", "learner", "verifier", "auditor", "admin"), help="its role"
    )
    p.add_argument("--subject", help="who: the issuer, learner or verifier id (any for others)")
    p.add_argument(
        "--ttl",
        type=at_least_one,
        default=3600,
        help="seconds it stays valid (the API refuses more than LEDGER_API_MAX_TOKEN_TTL_S, "
        "default 86400)",
    )
    p.add_argument(
        "--jwks",
        action="store_true",
        help="print the key's public JWKS (for LEDGER_API_TOKEN_KEYS_FILE) instead of a token",
    )
    p.set_defaults(handler=sv.token)

    p = sub.add_parser("demo", help="generate, ingest and audit a realistic population")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    p.add_argument("--learners", type=int, default=200, help="how many learners")
    p.add_argument("--db", help="database file (default: LEDGER_DATA_DIR/demo/ledger.db)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--serve",
        action="store_true",
        help="then serve the web pages on 127.0.0.1 with the development sign-in (no "
        "password: loopback only) until Ctrl-C",
    )
    p.add_argument("--port", type=int, default=8080, help="the pages' port with --serve")
    add_json(p)
    p.set_defaults(handler=c.demo)

    add_bench_commands(sub, handler=c.bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigurationError as exc:
        print(f"ledger: configuration error: {exc}", file=sys.stderr)
        return 2
    except (LedgerError, CredentialError) as exc:
        print(f"ledger: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ledger: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
