"""The `wiredesk` command. `wiredesk --help` and `wiredesk COMMAND --help` tell the rest."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import unicodedata
from pathlib import Path

from wiredesk import __version__

# How much lower than the desk's the renderer's CPU priority is (see `render --follow`).
RENDERER_NICENESS = 10
# `wiredesk render` says how far it got at most this often.
PROGRESS_SECONDS = 5.0
# How much of a quarantined delivery `quarantine show` prints: enough to see what came.
SHOWN_BYTES = 1024
# Characters a terminal acts on (controls, escape sequences), or that hide or reorder what it shows
# (bidi and zero-width marks, line separators).
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    _configure(args)
    try:
        return args.command(args)
    except BrokenPipeError:
        # The reader went away (`wiredesk parse FILE | head`): nothing is wrong, so no traceback,
        # and stdout goes to /dev/null so that flushing it at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data", metavar="DIR", help="where wiredesk keeps everything (default: $WIREDESK_DATA or ./var)"
    )
    source = argparse.ArgumentParser(add_help=False)
    source.add_argument(
        "--source",
        metavar="SLUG",
        help="the agency or feed the copy comes from (default: $WIREDESK_DEFAULT_SOURCE or 'wire')",
    )

    parser = argparse.ArgumentParser(prog="wiredesk", description="Agency copy in, a live news site out.")
    parser.add_argument("--version", action="version", version=f"wiredesk {__version__}")
    sub = parser.add_subparsers(metavar="COMMAND")

    p = sub.add_parser(
        "parse", parents=[common, source], help="print the stories in FILE as ninjs 2.2 JSON (no database)"
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", metavar="NAME", help="read as this format instead of detecting it")
    p.add_argument(
        "--zone", metavar="TZ", default="UTC", help="time zone for times written without an offset (default UTC)"
    )
    p.set_defaults(command=cmd_parse)

    p = sub.add_parser("ingest", parents=[common, source], help="store and publish each FILE; one JSON line per story")
    p.add_argument("files", metavar="FILE", nargs="+")
    p.set_defaults(command=cmd_ingest)

    p = sub.add_parser(
        "import",
        parents=[common, source],
        help="load an archive of agency files (folders, tar or zip files) as the inbox would; resumable",
    )
    p.add_argument("paths", metavar="PATH", nargs="+", help="a folder, or a tar or zip file, of agency copy")
    p.add_argument(
        "--source-folders",
        action="store_true",
        help="the first folder on the way to a file (inside an archive too) names its source, as in the inbox",
    )
    p.add_argument("--json", action="store_true", help="one JSON line per story, as ingest prints")
    p.set_defaults(command=cmd_import)

    p = sub.add_parser("run", parents=[common], help="serve the site, watch the inbox and process deliveries")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="default 8000; 0: any free port. The site's address unless WIREDESK_BASE_URL is set",
    )
    p.add_argument("--workers", type=int, default=2, help="processing threads (default 2)")
    p.add_argument(
        "--web-workers", type=int, default=2, help="web server processes (default 2; one per core serves best)"
    )
    p.set_defaults(command=cmd_run)

    p = sub.add_parser(
        "reprocess", parents=[common], help="run quarantined deliveries (or the ones named) again, after a fix"
    )
    p.add_argument("deliveries", metavar="DELIVERY", nargs="*")
    p.set_defaults(command=cmd_reprocess)

    p = sub.add_parser(
        "audit",
        parents=[common],
        help="check every published story against its agency delivery; exit 1 on a difference",
    )
    p.set_defaults(command=cmd_audit)

    p = sub.add_parser("story", help="an operator's hand on one story: kill, hold or release")
    actions = p.add_subparsers(metavar="ACTION", required=True)
    for action, text in (
        ("kill", "take the story off everywhere, for good (its URL answers 410)"),
        ("hold", "take the story off until it is released"),
        ("release", "publish the story's newest version now (or at its embargo)"),
    ):
        a = actions.add_parser(action, parents=[common], help=text)
        a.add_argument("story", metavar="ID", help="the story's number (as in its URL) or its uri")
        if action != "release":
            a.add_argument("--reason", required=action == "kill", default="", help="why, for the record")
        else:
            a.add_argument(
                "--override-agency-kill",
                metavar="REASON",
                default="",
                help="release a story the agency killed (refused without it); the reason is recorded",
            )
        a.set_defaults(command=cmd_story, action=action)

    p = sub.add_parser("quarantine", help="the deliveries that could not be read: list, show or dismiss them")
    actions = p.add_subparsers(metavar="ACTION", required=True)
    a = actions.add_parser("list", parents=[common], help="the deliveries waiting in quarantine, oldest first")
    a.add_argument("--json", action="store_true", help="a JSON list, an object a delivery, with the whole reason")
    a.set_defaults(command=cmd_quarantine_list)
    a = actions.add_parser(
        "show", parents=[common], help="all there is of a delivery: the whole reason and its first bytes"
    )
    a.add_argument("delivery", metavar="ID")
    a.set_defaults(command=cmd_quarantine_show)
    a = actions.add_parser(
        "dismiss",
        parents=[common],
        help="set quarantined deliveries aside for good: not waiting, and not run again by reprocess",
    )
    a.add_argument("deliveries", metavar="ID", nargs="+")
    a.add_argument("--reason", required=True, help="why, for the record")
    a.set_defaults(command=cmd_quarantine_dismiss)

    p = sub.add_parser("sources", parents=[common], help="list the sources with their health; exit 1 if one is failing")
    p.add_argument("--json", action="store_true", help="one JSON object, as /healthz answers")
    p.set_defaults(command=cmd_sources)

    p = sub.add_parser("render", parents=[common], help="write the static tree for nginx again, whole")
    p.add_argument(
        "--follow",
        action="store_true",
        help="then keep it in step as stories change, until Ctrl-C (wiredesk run starts one)",
    )
    p.set_defaults(command=cmd_render)

    p = sub.add_parser("migrate", parents=[common], help="create or update the database")
    p.set_defaults(command=cmd_migrate)

    p = sub.add_parser("demo", parents=[common], help="load the bundled demo wire (fictional stories)")
    p.set_defaults(command=cmd_demo)
    return parser


def cmd_parse(args) -> int:
    # Deliberately no Django here: parsing must work on a machine with no database at all.
    from wiredesk import formats

    path = Path(args.file)
    try:
        data = path.read_bytes()
        context = formats.Context(
            source=args.source or os.environ.get("WIREDESK_DEFAULT_SOURCE", "wire"), zone=args.zone
        )
        stories = formats.parse(data, context, format=args.format)
    except OSError as exc:
        return _fail(path, exc.strerror or str(exc))
    except formats.FormatError as exc:
        return _fail(path, str(exc))
    json.dump([story.to_ninjs() for story in stories], sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def cmd_ingest(args) -> int:
    _django(publishes=True)
    from wiredesk.desk import pipeline
    from wiredesk.publish import static

    source = _checked_source(args.source)
    if source is None:
        return 2
    status = 0
    # The tree in one pass at the end, not one a file (a story taken down leaves it at its commit).
    with static.deferred():
        for name in args.files:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                _fail(path, exc.strerror or str(exc))
                status = 1
                continue
            delivery = pipeline.receive(data, source=source, transport="cli", filename=str(path))
            # The same bytes again are the delivery they were stored as: run again, each story comes
            # out as it stands (`unchanged`), as a second delivery of them did before.
            for result in pipeline.process(delivery.pk, again=delivery.again):
                line = {"file": str(path), **result.as_dict()}
                if result.url:
                    line["url"] = _absolute(result.url)
                print(json.dumps(line, ensure_ascii=False), flush=True)
                if result.error:
                    status = 1
    return status


def cmd_import(args) -> int:
    _django(publishes=True)
    from tqdm import tqdm

    from wiredesk.app import importing
    from wiredesk.lifecycle import Outcome

    source = _checked_source(args.source)
    if source is None:
        return 2
    missing = [path for path in args.paths if not os.path.lexists(path)]
    if missing:
        return _fail(Path(missing[0]), "no such file or folder")
    # A line a story is what --json prints; the log would say each again, a hundred thousand times.
    logging.getLogger("wiredesk.desk.pipeline").setLevel(logging.WARNING)
    logging.getLogger("wiredesk.transports.store").setLevel(logging.WARNING)

    def report(name: str, result) -> None:
        if args.json:
            line = {"file": name, **result.as_dict(), **({"url": _absolute(result.url)} if result.url else {})}
            print(json.dumps(line, ensure_ascii=False), flush=True)

    # No monitor thread: the import forks its readers, which a thread makes unsafe.
    tqdm.monitor_interval = 0
    with tqdm(desc="import", unit=" files", file=sys.stderr, disable=None) as bar:
        summary = importing.run(
            [Path(p) for p in args.paths],
            source=source,
            by_folder=args.source_folders,
            report=report,
            progress=bar.update,
        )
    counts = ", ".join(f"{n:,} {outcome}" for outcome, n in sorted(summary.outcomes.items())) or "no stories"
    rate = summary.stories / summary.seconds if summary.seconds else 0.0
    print(
        f"imported {summary.files:,} files ({summary.stored:,} new) in {summary.seconds:.1f} s: {counts}; "
        f"{rate:,.0f} stories/s; static tree rendered in {summary.render_seconds:.1f} s",
        file=sys.stderr if args.json else sys.stdout,
    )
    return 1 if summary.outcomes[Outcome.QUARANTINED] else 0


def cmd_reprocess(args) -> int:
    _django(publishes=True)
    from wiredesk.desk import actions, pipeline

    try:
        named = [actions.delivery(ref).pk for ref in args.deliveries]
    except actions.NotFound as exc:
        return _refuse(exc)
    results = pipeline.reprocess(named or None)
    for result in results:
        print(
            json.dumps(
                {**result.as_dict(), **({"url": _absolute(result.url)} if result.url else {})}, ensure_ascii=False
            ),
            flush=True,
        )
    return 1 if any(result.error for result in results) else 0


def cmd_audit(args) -> int:
    _django()
    from wiredesk.desk import pipeline

    count, differences = pipeline.audit()
    for difference in differences:
        print(f"{difference}\n  published: {difference.published!r}\n  agency:    {difference.agency!r}")
    print(
        f"audited {count} published {'story' if count == 1 else 'stories'}: "
        f"{len(differences) or 'no'} difference{'' if len(differences) == 1 else 's'}"
    )
    return 1 if differences else 0


def cmd_story(args) -> int:
    _django(publishes=True, emergency=True)
    from wiredesk.desk import actions

    try:
        story = actions.find(args.story)
        if args.action == "release":
            story = actions.release(story, override_agency_kill=args.override_agency_kill)
        else:
            story = getattr(actions, args.action)(story, args.reason)
    except (actions.NotFound, actions.Refused) as exc:
        return _refuse(exc)
    print(
        json.dumps(
            {
                "story": story.pk,
                "uri": story.uri,
                "state": story.state,
                "reason": story.reason,
                "url": _absolute(story.get_absolute_url()),
            },
            ensure_ascii=False,
        )
    )
    return 0


def cmd_quarantine_list(args) -> int:
    _django()
    from wiredesk.desk import actions

    waiting = list(actions.quarantined())
    if args.json:
        # ASCII: JSON escapes C0 controls only, and names and reasons come from outside.
        print(
            json.dumps(
                [
                    {
                        "delivery": d.pk,
                        "received": d.received_at.isoformat(),
                        "source": d.source.slug,
                        "transport": d.transport,
                        "filename": d.filename,
                        "size": d.size,
                        "reason": d.error,
                    }
                    for d in waiting
                ],
                indent=1,
            )
        )
        return 0
    if not waiting:
        print("nothing in quarantine")
        return 0
    rows = [("delivery", "received", "source", "transport", "filename", "size")] + [
        (
            str(d.pk),
            _local(d.received_at),
            _shown(d.source.slug),
            _shown(d.transport),
            _shown(d.filename) or "-",
            f"{d.size:,}",
        )
        for d in waiting
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row, reason in zip(rows, ["reason"] + [_shown(d.error.split("\n", 1)[0]) for d in waiting]):
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths)] + [row[-1].rjust(widths[-1]), reason]
        print("  ".join(cells))
    return 0


def cmd_quarantine_show(args) -> int:
    _django()
    from wiredesk.desk import actions

    try:
        delivery = actions.delivery(args.delivery)
    except actions.NotFound as exc:
        return _refuse(exc)
    data = bytes(delivery.data[:SHOWN_BYTES])
    print(
        f"delivery {delivery.pk}: {delivery.status}\n"
        f"received:  {_local(delivery.received_at)}\n"
        f"processed: {_local(delivery.processed_at) if delivery.processed_at else '-'}\n"
        f"source:    {_shown(delivery.source.slug)} ({_shown(delivery.source.name)})\n"
        f"transport: {_shown(delivery.transport)}\n"
        f"filename:  {_shown(delivery.filename) or '-'}\n"
        f"size:      {delivery.size:,} bytes, sha256 {delivery.sha256}\n"
        f"reason:\n{_indented(delivery.error)}"
    )
    if delivery.unread:
        print("data:      not read (see the reason)")
    elif data:
        shown = (
            f"all {delivery.size:,}"
            if delivery.size <= SHOWN_BYTES
            else f"the first {SHOWN_BYTES:,} of {delivery.size:,}"
        )
        print(f"data ({shown} bytes):\n{_indented(data.decode('utf-8', 'backslashreplace'))}")
    return 0


def cmd_quarantine_dismiss(args) -> int:
    # Sets deliveries aside: no story changes, so the sources' settings play no part.
    _django()
    from wiredesk.desk import actions

    try:
        dismissed = actions.dismiss([actions.delivery(ref) for ref in args.deliveries], args.reason)
    except (actions.NotFound, actions.Refused) as exc:
        return _refuse(exc)
    for delivery in dismissed:
        print(
            json.dumps(
                {"delivery": delivery.pk, "status": delivery.status, "reason": args.reason.strip()}, ensure_ascii=False
            )
        )
    return 0


def cmd_run(args) -> int:
    _django(migrate=True, publishes=True)
    from wiredesk.app import runner

    runner.run(args.host, args.port, workers=args.workers, web_workers=args.web_workers)
    return 0


def cmd_sources(args) -> int:
    _django()
    from wiredesk.desk import health

    reports = health.report()
    if args.json:
        print(json.dumps(health.summary(reports), ensure_ascii=False, indent=1))
    else:
        print(f"{'source':<16} {'status':<8} {'last delivery':<20} {'/hour':>5} {'errors':>6}  transports")
        for r in reports:
            last = _local(r.last_delivery) if r.last_delivery else "never"
            transports = (
                ", ".join(
                    f"{t.transport} {'ok' if not t.consecutive_errors else f'failing x{t.consecutive_errors}'}"
                    for t in r.transports
                )
                or "-"
            )
            print(f"{r.slug:<16} {r.status:<8} {last:<20} {r.deliveries_last_hour:>5} {r.errors:>6}  {transports}")
            for problem in r.problems:
                print(f"{'':<16} {problem}")
    return 1 if any(r.failing for r in reports) else 0


def cmd_render(args) -> int:
    if args.follow:
        import signal
        import threading

        # Ctrl-C, or the desk stopping (SIGTERM, also sent by the kernel if the desk is killed):
        # the pass under way ends, then the loop. Not through a handler: one setting the event
        # would take the event's lock, which the loop, interrupted, may hold, and wait for ever.
        # The signals are blocked (in every thread started after this) and a thread of their own
        # waits for one; their default action first, whatever a parent left them as (a shell's
        # background job ignores SIGINT, and POSIX leaves open whether an ignored signal reaches
        # sigwait).
        stop, signals = threading.Event(), {signal.SIGINT, signal.SIGTERM}
        for number in signals:
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)

        def wait_for_signal():
            signal.sigwait(signals)
            stop.set()

        threading.Thread(target=wait_for_signal, name="signals", daemon=True).start()
    # The tree is what readers get: the sources' settings as the file has them now govern it.
    _django(publishes=True)
    from django.conf import settings

    from wiredesk.publish import static

    if args.follow:
        # Publishing comes first: under a burst the processors and the web server take the
        # cores, and the tree, which Django stands in for meanwhile, catches up after.
        os.nice(RENDERER_NICENESS)
        static.follow(stop, settings.WIREDESK["SWEEP_SECONDS"])
        return 0
    said = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal said
        # A line every few seconds, and the last: enough to see it move, and where it stopped.
        if time.monotonic() - said >= PROGRESS_SECONDS or done == total:
            said = time.monotonic()
            print(f"static tree: {done:,} of {total:,} articles", file=sys.stderr, flush=True)

    count = static.rebuild(progress)
    print(f"static tree: {count} pages in {static.tree()}")
    return 0


def cmd_migrate(args) -> int:
    _django(migrate=True, verbosity=1)
    return 0


def cmd_demo(args) -> int:
    _django(migrate=True, publishes=True)
    from wiredesk import demo

    counts = demo.load()
    print(f"demo wire: {sum(counts.values())} deliveries ({', '.join(f'{n} {o}' for o, n in sorted(counts.items()))})")
    return 0


def _checked_source(name: str | None) -> str | None:
    """The source copy is filed under (`--source`, or the default), or None once the reason it is
    not one has been said."""
    from wiredesk.config import sources

    try:
        return sources.check(name)
    except sources.ConfigError as exc:
        print(f"wiredesk: {exc}", file=sys.stderr)
        return None


def _configure(args) -> None:
    """Set, from the command's arguments, the environment the settings are read from: here only,
    and before Django is set up, so that settings are never changed once read, and the processes
    the desk starts inherit them (wiredesk.app.processes.child_environment)."""
    if args.data:
        os.environ["WIREDESK_DATA"] = str(Path(args.data).resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wiredesk.config.settings")
    if args.command is cmd_run:
        from wiredesk.app.processes import free_port, site_address

        # --port 0 is any free port: chosen now, so that the site's address can name it.
        args.port = args.port or free_port(args.host)
        os.environ["WIREDESK_HOST"] = args.host
        if not os.environ.get("WIREDESK_BASE_URL"):
            # The pages name the address they are served at.
            os.environ["WIREDESK_BASE_URL"] = site_address(args.host, args.port)


def _django(*, migrate: bool = False, publishes: bool = False, emergency: bool = False, verbosity: int = 0) -> None:
    """Set Django up for a command. Those that `migrate` (migrate, run, demo) make the data folder
    and bring the database up to date; any other refuses, touching nothing, while the database
    needs migrating. A mistake in the configuration stops the command, unless it is an
    `emergency` one; the commands that publish or change stories apply sources.toml first."""
    import django

    if migrate:
        from wiredesk.config import data

        # Before the settings are read: they read the secret key kept there.
        data.make(data.folder())
    else:
        _refuse_unmigrated()
    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=verbosity, interactive=False)
    elif _pending_migrations():
        _needs_migrating()
    from wiredesk import filing
    from wiredesk.config import sources

    try:
        if publishes:
            # What is published, and how, follows the sources' settings (a hold rule, a time zone,
            # a name), kept in the database: brought in line with the file before anything is.
            # The other commands only read, and leave the database as they found it; `sources`
            # reads the file itself, as it is now.
            sources.apply()
        else:
            sources.read()  # checked all the same: a mistake stops the command
        filing.check()
    except (sources.ConfigError, filing.ConfigError) as exc:
        if not emergency:
            print(f"wiredesk: {exc}", file=sys.stderr)
            sys.exit(2)
        # Taking a story off must not wait for the file to be mended; the file is left unapplied.
        print(f"wiredesk: warning: {exc} (acting all the same)", file=sys.stderr)
        # Said once: the pages the command renders would each say it again, in the log.
        for module in (sources, filing):
            logging.getLogger(module.__name__).setLevel(logging.CRITICAL)


def _refuse_unmigrated() -> None:
    """Stop, before Django is set up (which opens the task queue's file there), when there is no
    data folder, or no embedded database in it, yet."""
    from django.conf import settings

    if not settings.DATA_DIR.is_dir():
        print(
            f"wiredesk: there is no data folder at {settings.DATA_DIR}: "
            f"run `wiredesk migrate --data {settings.DATA_DIR}` to make one",
            file=sys.stderr,
        )
        sys.exit(1)
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and not Path(database["NAME"]).exists():
        _needs_migrating()


def _pending_migrations() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _needs_migrating() -> None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    where = database["NAME"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        # Named as in DATABASE_URL, without the user and password.
        where = f"{database.get('HOST') or 'localhost'}:{database.get('PORT') or 'default port'}/{where}"
    print(
        f"wiredesk: the database at {where} needs migrating: run `wiredesk migrate --data {settings.DATA_DIR}`",
        file=sys.stderr,
    )
    sys.exit(1)


def _absolute(url: str) -> str:
    from django.conf import settings

    return settings.WIREDESK["BASE_URL"] + url


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit() and int(text) < 65536):
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: a number from 0 (any free one) to 65535")
    return int(text)


def _local(moment) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _shown(text: str) -> str:
    """`text` from outside (a file name, copy) safe for the operator's terminal: every character
    it would act on or that would hide or reorder what it shows, written as its escape."""
    return "".join(
        char.encode("unicode_escape").decode() if unicodedata.category(char) in _UNSAFE_CATEGORIES else char
        for char in text
    )


def _indented(text: str) -> str:
    """Lines of `text` from outside, each made safe (see _shown) and indented."""
    return "\n".join(f"  {_shown(line)}" for line in text.removesuffix("\n").split("\n"))


def _refuse(exc: Exception) -> int:
    print(f"wiredesk: {exc}", file=sys.stderr)
    return 1


def _fail(path: Path, reason: str) -> int:
    print(f"wiredesk: {path}: {reason}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
