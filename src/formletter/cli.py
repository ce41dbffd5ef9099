"""The ``formletter`` command: thin wrappers over the library.

Each command parses its options, calls one library function and prints the result.
Exit codes: 0 success; 1 an error (the message says what and where); 2 a usage error;
3 ``analyze`` stored what it could but some input files failed (see ``failures``).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from formletter import __version__
from formletter.errors import FormletterError
from formletter.store import FAMILY_ORDERS, Store, open_store

__all__ = ["app", "main"]

app = typer.Typer(
    name="formletter",
    help="Find the form letters in a pile of correspondence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # help texts are paragraphs: reflowed to the terminal, not broken where the source is
    rich_markup_mode="markdown",
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

DbOpt = Annotated[Path, typer.Option("--db", help="The SQLite database.", envvar="FORMLETTER_DB")]
DEFAULT_DB = Path("formletter.db")


def _domain_errors(fn: F) -> F:
    """Turn a FormletterError into a one-line message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FormletterError as exc:
            err.print(Text(f"Error: {exc}", style="bold red"))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print(Text("Interrupted: everything committed so far is kept.", style="yellow"))
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _existing_db(db: Path) -> Path:
    if not db.exists():
        raise FormletterError(f"{db}: no such database (run 'formletter analyze' first)")
    return db


@contextmanager
def _reading(db: Path) -> Iterator[Store]:
    """The database, read-only (upgraded first when an older formletter wrote it)."""
    _existing_db(db)
    if Store.needs_upgrade(db):
        with open_store(db):
            pass
    with open_store(db, readonly=True) as store:
        yield store


_STAGES = {
    "read": "Reading files",
    "failures": "Files that failed",
    "anatomy": "Parsing letters",
    "tokenize": "Tokenising",
    "candidates": "Finding candidates",
    "verify": "Aligning pairs",
    "families": "Building families",
    "store": "Saving",
    "index": "Indexing templates",
}


class _Bars:
    """Rich progress bars, one per pipeline stage (silent when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not err.is_terminal,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        task = self.tasks.get(stage)
        if task is None:
            task = self.progress.add_task(_STAGES.get(stage, stage), total=total, rate="")
            self.tasks[stage] = task
        speed = self.progress.tasks[task].speed if task in self.progress.task_ids else None
        rate = f"{speed:,.0f}/s" if speed else ""
        self.progress.update(task, completed=done, total=total, rate=rate)


# --------------------------------------------------------------------------- analyze


@app.command()
@_domain_errors
def analyze(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files or folders of letters, or URLs fsspec can read (s3://bucket/*.jsonl,"
            " https://..., file:///...)."
        ),
    ],
    db: DbOpt = DEFAULT_DB,
    text_column: Annotated[
        str | None, typer.Option(help="CSV/JSONL/XLSX/Parquet column holding the letter text.")
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="Column holding a record id (it keys the letter id; without it, the file's"
            " name and the row do)."
        ),
    ] = None,
    meta_column: Annotated[
        list[str] | None, typer.Option(help="Column to carry into the export (repeatable).")
    ] = None,
    sender_column: Annotated[
        str | None,
        typer.Option(
            help=(
                "Column naming the sender, used when a letter is unsigned (default: found"
                " among sender, name, author, submitter, First Name + Last Name; '' for"
                " none)."
            )
        ),
    ] = None,
    date_column: Annotated[
        str | None,
        typer.Option(
            help=(
                "Column holding the date, used when a letter is undated (default: found"
                " among date, sent date, postmark date, Received Date, Posted Date; ''"
                " for none)."
            )
        ),
    ] = None,
    register: Annotated[
        Path | None,
        typer.Option(help="Register CSV: name, constituency, party, start_date, end_date."),
    ] = None,
    dayfirst: Annotated[
        bool, typer.Option("--dayfirst/--monthfirst", help="Read 04/12/2018 as 4 December.")
    ] = True,
    jobs: Annotated[int, typer.Option(help="Worker processes (0: all cores).")] = 0,
    engine: Annotated[str, typer.Option(help="local or dask.")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: a LocalCluster).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds allowed to parse one file.")] = 60.0,
    max_mb: Annotated[float, typer.Option(help="Largest file read, in MB.")] = 50.0,
    ocr: Annotated[bool, typer.Option("--ocr/--no-ocr", help="OCR scans and images.")] = True,
    force: Annotated[
        bool, typer.Option(help="Re-run the analysis even if nothing changed.")
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option(help="Read again files that failed last time.")
    ] = False,
    incremental: Annotated[
        bool,
        typer.Option(
            help="Add the new letters to the stored families instead of analysing every"
            " letter again (fast on a big database; a plain run, or --force, makes the"
            " families exact)."
        ),
    ] = False,
    parquet: Annotated[
        Path | None,
        typer.Option(
            help="Also write the analysis as Parquet into this folder: letters/ (one row per"
            " letter) and families.parquet (templates)."
        ),
    ] = None,
    no_sqlite: Annotated[
        bool,
        typer.Option(
            "--no-sqlite", help="With --parquet: keep no database (a scratch one is removed)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Read letters into the database and find their template families.

    Re-running on the same folder reads only new or changed files. Exit code 3 means
    some files could not be read: they are listed by 'formletter failures'.

    With --incremental, the letters new since the last analysis join the stored families
    whose templates they match, and the rest are grouped among themselves; the stored
    families and templates are kept. Without it, every letter is analysed again."""
    from formletter.ingest import IngestOptions
    from formletter.pipeline import AnalyzeOptions, summary_dict
    from formletter.pipeline import analyze as run_analyze

    options = AnalyzeOptions(
        ingest=IngestOptions(
            text_column=text_column,
            id_column=id_column,
            meta_columns=tuple(meta_column or ()),
            sender_column=sender_column,
            date_column=date_column,
            max_bytes=int(max_mb * 2**20),
            timeout=timeout,
            ocr=ocr,
            jobs=jobs,
        ),
        register=str(register) if register else None,
        dayfirst=dayfirst,
        jobs=jobs,
        engine=engine,
        scheduler=scheduler,
        force=force,
        retry_failed=retry_failed,
        incremental=incremental,
    )
    bars = _Bars()
    if no_sqlite and parquet is None:
        raise FormletterError("--no-sqlite needs --parquet FOLDER: the Parquet is the output")
    written = None
    if parquet is not None:
        from formletter.outputs import analyze_to_parquet

        with bars.progress:
            summary, written = analyze_to_parquet(
                paths, parquet, options, db=None if no_sqlite else db, progress=bars
            )
    else:
        with open_store(db) as store, bars.progress:
            summary = run_analyze(store, paths, options, progress=bars)
    if written is not None:
        err.print(
            f"Wrote {written.letters.rows} letters to {len(written.letters.shards)} Parquet"
            f" file(s) in {parquet}/letters and {written.families} families to"
            f" {written.families_file}" + (" (no database kept)" if no_sqlite else "")
        )
    if as_json:
        out.print_json(json.dumps(summary_dict(summary)))
    else:
        s = summary
        out.print(
            f"Read {s.files_read} file(s) ({s.files_skipped} unchanged, skipped); "
            f"{s.letters_added} new letter(s). {'Analysis' if no_sqlite else f'Database {db}'}:"
            f" {s.letters} letters, "
            f"{s.families} families, {s.form_letters} form letters."
        )
        if s.incremental is not None:
            inc = s.incremental
            out.print(
                f"Added {inc.letters} new letter(s) to the stored analysis: {inc.joined} joined"
                f" a family, {inc.grouped} formed {inc.families} new families."
            )
        elif incremental and s.analysed and not force:
            out.print(
                "Ran the full analysis: there was none to add to, or it was made with other"
                " options, or a changed file replaced a letter."
            )
        if s.failures:
            err.print(
                Text(
                    f"{s.files_failed} file(s) failed, {len(s.failures)} problem(s): "
                    f"see 'formletter failures --db {db}'",
                    style="yellow",
                )
            )
            for f in s.failures[:10]:
                err.print(Text(f"  {f.source}: {f.reason}", style="yellow"))
    raise typer.Exit(summary.exit_code)


# -------------------------------------------------------------------------- browsing


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _parties(mix: dict[str, int], top: int = 3) -> str:
    ranked = sorted(mix.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{p} {n}" for p, n in ranked[:top])
    rest = sum(n for _, n in ranked[top:])
    return shown + (f", others {rest}" if rest else "")


@app.command()
@_domain_errors
def families(
    db: DbOpt = DEFAULT_DB,
    limit: Annotated[int, typer.Option(help="Families shown.")] = 50,
    offset: Annotated[int, typer.Option(help="Families skipped.")] = 0,
    order: Annotated[str, typer.Option(help=f"One of: {', '.join(FAMILY_ORDERS)}.")] = "size",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List template families: size, senders, party mix, dates, first line."""
    with _reading(db) as store:
        try:
            rows = store.families(limit=limit, offset=offset, order=order)
        except ValueError as exc:
            raise FormletterError(str(exc)) from None
        total = store.family_count()
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    table = Table(title=f"{total} families", title_justify="left")
    for col in ("family", "letters", "senders", "parties", "dates", "first line"):
        table.add_column(col, overflow="fold")
    for r in rows:
        dates = " to ".join(d for d in dict.fromkeys((r["date_min"], r["date_max"])) if d)
        table.add_row(
            Text(r["family_id"]),
            str(r["size"]),
            str(r["senders"]),
            Text(_parties(r["parties"])),
            Text(dates),
            Text(_clip(r["first_line"] or "", 40)),
        )
    out.print(table)


@app.command()
@_domain_errors
def template(
    family_id: Annotated[str, typer.Argument(metavar="FAMILY")],
    db: DbOpt = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A family's recovered template: slots marked, each sentence with its support."""
    with _reading(db) as store:
        fam = store.family(family_id)
        tpl = store.template(family_id)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "family_id": family_id,
                    "size": fam["size"],
                    "text": tpl.text,
                    "segments": [s.to_dict() for s in tpl.segments],
                }
            )
        )
        return
    size = fam["size"]
    out.print(Text(f"Family {family_id}: {size} letters; template from {tpl.sample_size} variants"))
    out.print(Text("[n/N] = how many letters carry the sentence; {slot} = varies per letter\n"))
    by_sentence: dict[int, list[Any]] = {}
    for seg in tpl.segments:
        by_sentence.setdefault(seg.sentence, []).append(seg)
    for _, segs in sorted(by_sentence.items()):
        line = Text(f"[{segs[0].support}/{size}] ", style="dim")
        for seg in segs:
            if seg.kind == "slot":
                hint = f" (e.g. {', '.join(seg.examples[:3])})" if seg.examples else ""
                line.append(seg.text, style="bold cyan")
                line.append(hint, style="dim cyan")
            else:
                line.append(seg.text.strip("\n"))
        out.print(line)


_STYLES = {
    "insert": "bold green",
    "replace": "bold green",
    "minor": "yellow",
    "slot": "cyan",
    "moved": "magenta",
}
_PART_STYLES = {
    "letterhead": "blue",
    "date": "blue",
    "salutation": "blue",
    "heading": "bold",
    "signoff": "blue",
    "signature": "blue",
    "name": "blue",
    "role": "blue",
    "constituency": "blue",
    "contact": "blue",
}


def _coloured(text: str, body: tuple[int, int], ops: list[Any], parts: list[Any]) -> Text:
    """The letter with its wrapper parts in blue and its body coloured by the diff."""
    rich = Text(text)
    for p in parts:
        style = _PART_STYLES.get(p["kind"])
        if style and not (body[0] <= p["start"] and p["end"] <= body[1]):
            rich.stylize(style, p["start"], p["end"])
    for op in ops:
        style = _STYLES.get(op.op)
        if style and op.l_end > op.l_start:
            rich.stylize(style, op.l_start, op.l_end)
    return rich


@app.command()
@_domain_errors
def show(
    letter: Annotated[str, typer.Argument(metavar="LETTER", help="Letter id or source path.")],
    db: DbOpt = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A letter, coloured against its template: added, changed, moved, removed."""
    with _reading(db) as store:
        found = store.get_letter(letter)
        row = store.letter_row(found.letter_id)
        diff = store.diff(found.letter_id)
        tpl = store.template(diff.family_id) if diff is not None else None
    if as_json:
        row["diff"] = None
        if diff is not None:
            row["diff"] = {
                "family_id": diff.family_id,
                "similarity": diff.similarity,
                "coverage": diff.coverage,
                "unique_spans": [list(s) for s in diff.unique_spans],
                "unique_text": diff.unique_text,
                "ops": [
                    {
                        "op": o.op,
                        "t_start": o.t_start,
                        "t_end": o.t_end,
                        "l_start": o.l_start,
                        "l_end": o.l_end,
                        "text": o.text,
                    }
                    for o in diff.ops
                ],
            }
        out.print_json(json.dumps(row, default=str))
        return
    head = Text(f"{found.letter_id}  {found.source}\n", style="bold")
    for key in ("sender_name", "sender_role", "constituency", "party", "date", "heading"):
        if row.get(key):
            head.append(f"{key}: ", style="dim")
            head.append(f"{row[key]}\n")
    if diff is None:
        head.append("In no family.\n", style="dim")
        out.print(head)
        out.print(Text(found.text))
        return
    head.append(
        f"family {diff.family_id}: similarity {diff.similarity:.2f}, "
        f"{diff.template_coverage:.0%} of the template used\n",
        style="dim",
    )
    head.append("legend: ", style="dim")
    for label, style in (
        ("added", "bold green"),
        ("changed", "yellow"),
        ("slot", "cyan"),
        ("moved", "magenta"),
        ("removed", "red strike"),
        ("wrapper", "blue"),
    ):
        head.append(label + " ", style=style)
    out.print(head)
    body = (row.get("body_start") or 0, row.get("body_end") or len(found.text))
    out.print(_coloured(found.text, body, list(diff.ops), row["parts"]))
    removed = [o for o in diff.ops if o.op == "delete" and tpl is not None]
    if removed and tpl is not None:
        out.print(Text("\nRemoved from the template:", style="bold"))
        for o in removed:
            out.print(Text("  " + tpl.text[o.t_start : o.t_end].strip(), style="red strike"))


@app.command()
@_domain_errors
def export(
    db: DbOpt = DEFAULT_DB,
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl, csv or parquet.")] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="File to write (parquet: a .parquet file or a folder)."
        ),
    ] = None,
    shard_rows: Annotated[
        int | None,
        typer.Option("--shard-rows", min=1, help="Parquet: most rows per file [default: 100000]."),
    ] = None,
) -> None:
    """One row per letter: family, similarity, own words and their offsets, sender."""
    from formletter.export import EXPORT_FORMATS, PARQUET_SHARD_ROWS, write_export, write_parquet

    if fmt not in EXPORT_FORMATS:
        raise FormletterError(f"unknown format {fmt!r}; choose one of: {', '.join(EXPORT_FORMATS)}")
    if fmt == "parquet":
        if output is None:
            raise FormletterError(
                "parquet is binary, not for the terminal: give a file or folder with -o"
            )
        with _reading(db) as store:
            done = write_parquet(store, output, shard_rows=shard_rows or PARQUET_SHARD_ROWS)
        if len(done.shards) == 1:
            err.print(f"Wrote {done.rows} letters to {done.shards[0]}")
        else:
            where = done.shards[0].parent
            err.print(f"Wrote {done.rows} letters to {len(done.shards)} Parquet files in {where}")
        return
    if shard_rows is not None:
        raise FormletterError("--shard-rows applies only to --format parquet")
    with _reading(db) as store:
        if output is None:
            n = write_export(store, fmt, sys.stdout)
        else:
            tmp = output.with_name(output.name + ".part")
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                n = write_export(store, fmt, fh)
            tmp.replace(output)
    if output is not None:
        err.print(f"Wrote {n} letters to {output}")


@app.command()
@_domain_errors
def failures(
    db: DbOpt = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Input files that could not be read, and why."""
    with _reading(db) as store:
        rows = store.failures()
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    if not rows:
        out.print("No failures.")
        return
    table = Table(title=f"{len(rows)} failures", title_justify="left")
    table.add_column("source", overflow="fold")
    table.add_column("reason", overflow="fold")
    for r in rows:
        table.add_row(Text(r["source"]), Text(r["reason"]))
    out.print(table)


@app.command()
@_domain_errors
def senders(
    db: DbOpt = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each sender: letters, families, and how much of what they sent was their own."""
    with _reading(db) as store:
        rows = store.senders()
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    table = Table(title=f"{len(rows)} senders", title_justify="left")
    for col in ("sender", "party", "constituency", "letters", "form letters", "families", "own"):
        table.add_column(col, overflow="fold")
    for r in rows:
        own = r.get("own_share")
        table.add_row(
            Text(r.get("sender_name") or r.get("sender_key") or "(unknown)"),
            Text(r.get("party") or ""),
            Text(r.get("constituency") or ""),
            str(r["letters"]),
            str(r["form_letters"]),
            str(r["families"]),
            f"{own:.0%}" if own is not None else "",
        )
    out.print(table)


@app.command()
@_domain_errors
def match(
    file: Annotated[Path, typer.Argument(help="A letter (text file), or - for stdin.")],
    db: DbOpt = DEFAULT_DB,
    dayfirst: Annotated[bool, typer.Option("--dayfirst/--monthfirst")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Is this letter a form letter? Its family and diff; nothing is stored."""
    from formletter.ingest import IngestOptions, read_file
    from formletter.match import match_text

    if str(file) == "-":
        text = sys.stdin.read()
    else:
        result = read_file(file, IngestOptions())
        if not result.letters:
            reason = result.failures[0].reason if result.failures else "no letter in it"
            raise FormletterError(f"{file}: {reason}")
        text = result.letters[0].text
    with _reading(db) as store:
        res = match_text(store, text, dayfirst=dayfirst)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "letter_id": res.letter_id,
                    "family_id": res.family_id,
                    "score": res.score,
                    "unique_text": res.diff.unique_text if res.diff else None,
                    "unique_spans": [list(s) for s in res.diff.unique_spans] if res.diff else [],
                    "party": res.sender.party if res.sender else None,
                }
            )
        )
        return
    if res.family_id is None or res.diff is None:
        out.print("No family: this letter does not follow any stored template.")
        return
    out.print(Text(f"Family {res.family_id} (score {res.score:.2f})", style="bold"))
    out.print(
        _coloured(text, (res.anatomy.body_start, res.anatomy.body_end), list(res.diff.ops), [])
    )


# ----------------------------------------------------------------- corpora & quality


@app.command()
@_domain_errors
def synth(
    out_dir: Annotated[Path, typer.Argument(metavar="OUT", help="Folder to write.")],
    letters: Annotated[int, typer.Option(help="How many letters.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    ocr_rate: Annotated[float, typer.Option(help="Share of letters with OCR noise.")] = 0.15,
) -> None:
    """Write a labelled synthetic corpus: OUT/letters/, OUT/truth.jsonl, OUT/register.csv."""
    from formletter.synth import generate

    if letters < 1:
        raise FormletterError("--letters must be at least 1")
    s = generate(out_dir, letters=letters, seed=seed, ocr_rate=ocr_rate)
    out.print(
        f"Wrote {s.letters} letters ({s.families} families) to {s.letters_dir}, "
        f"truth to {s.truth_path}, register to {s.register_path}"
    )


@app.command()
@_domain_errors
def evaluate(
    truth: Annotated[
        Path,
        typer.Option(
            help="Truth file: a JSON object per letter with 'file' and 'family' (a string,"
            " an integer or null), as 'formletter synth' writes it."
        ),
    ],
    db: DbOpt = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score the families and unique text against a labelled corpus."""
    from dataclasses import asdict

    from formletter.evaluate import format_scores
    from formletter.pipeline import evaluate_store

    with _reading(db) as store:
        scores = evaluate_store(store, truth)
    if as_json:
        out.print_json(json.dumps(asdict(scores)))
    else:
        out.print(Text(format_scores(scores)))


# ------------------------------------------------------------------------ web & report


@app.command()
@_domain_errors
def report(
    db: DbOpt = DEFAULT_DB,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    top: Annotated[int, typer.Option(help="Families shown in full.")] = 20,
) -> None:
    """Write a self-contained HTML report (opens offline)."""
    from formletter.report import write_report

    with _reading(db) as store:
        path = write_report(store, output, top=top)
    out.print(f"Wrote {path}")


@app.command()
@_domain_errors
def serve(
    db: DbOpt = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Browse the database in a local web app (read-only)."""
    try:
        from formletter.web import serve as run_server
    except ImportError as exc:
        raise FormletterError(f"the web app needs: pip install 'formletter[web]' ({exc})") from None
    run_server(_existing_db(db), host=host, port=port)


def _version(value: bool) -> None:
    if value:
        out.print(f"formletter {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Find the form letters in a pile of correspondence."""


def main() -> None:
    """Console entry point."""
    app()
