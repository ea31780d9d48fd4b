"""Triage: prompts typed, pasted or read from a file, each answered, labelled in its own language
and scored, row by row; sort, filter, A/B the answer under mitigation, mark rows, export a set."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Static

from rass_lite.bench import DEFAULT_MAX_TOKENS
from rass_lite.errors import InputError, RassError

from .. import triage_core
from ..modals import Paste

COLUMNS = [("id", "id"), ("lang", "lang"), ("score", "score"), ("zone", "zone"), ("p_refuse", "p_ref"),
           ("p_first", "p_1st"), ("refusal", "label"), ("mark", "mark"), ("response", "answer")]
MARKS = {"k": "keep", "d": "drop", "r": "review"}
FILTER_KEYS = {"zone": "zone", "label": "refusal", "lang": "lang", "mark": "mark"}


def _cell(row: dict, key: str) -> str:
    v = row.get(key)
    if v is None:
        return "…" if key == "response" else ""
    if isinstance(v, float):
        return f"{v:+.2f}" if key == "score" else f"{v:.2f}"
    return " ".join(str(v).split())[:40] if key == "response" else str(v)


def matches(row: dict, text: str) -> bool:
    """`zone:boundary label:refuse lang:zh mark:keep`, other words searched in the prompt."""
    for token in text.split():
        key, sep, value = token.partition(":")
        if sep and key in FILTER_KEYS:
            if str(row.get(FILTER_KEYS[key], "")) != value:
                return False
        elif token.lower() not in row["prompt"].lower():
            return False
    return True


class TriagePane(Vertical):
    BINDINGS = [Binding("a", "ab", "A/B"), Binding("k", "mark('k')", "Keep"), Binding("d", "mark('d')", "Drop"),
                Binding("r", "mark('r')", "Review"), Binding("e", "export", "Export"), Binding("p", "paste", "Paste")]

    def __init__(self):
        super().__init__()
        self.rows: dict[str, dict] = {}
        self.sort_key: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Input(placeholder="a prompt, or a .txt/.jsonl/.csv file (a run's results.jsonl too); Enter",
                        id="prompt", compact=True)
            yield Button("Paste", id="paste", compact=True)
        with Horizontal(classes="bar"):
            yield Input(placeholder="filter: zone:boundary label:refuse lang:zh mark:keep word", id="filter", compact=True)
            yield Input("0.5", placeholder="scale", id="ab-scale", compact=True, tooltip="A/B: global −scale")
            yield Input(placeholder="mitigation folder", id="ab-mitigation", compact=True)
            yield Input("triage-set.jsonl", id="export-path", compact=True, tooltip="export: marked keep rows")
        yield DataTable(id="triage-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="ab"):
            with VerticalScroll():
                yield Static("the full answer of the row under the cursor", id="detail-plain")
            with VerticalScroll():
                yield Static("a: the answer under mitigation", id="detail-steered")

    def on_mount(self) -> None:
        table = self.query_one("#triage-table", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)

    # --- input -----------------------------------------------------------------------------------
    @on(Input.Submitted, "#prompt")
    def on_prompt(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        try:
            if Path(text).suffix in (".txt", ".jsonl", ".csv") and (Path(text).exists() or "/" in text or " " not in text):
                records = triage_core.read_input(text)
            else:
                records = triage_core.from_text(text, "typed")
        except RassError as exc:
            self.app.fail(exc)
            return
        event.input.value = ""
        self.add_records(records)

    @on(Button.Pressed, "#paste")
    def action_paste(self) -> None:
        def pasted(text: str | None) -> None:
            if text:
                try:
                    self.add_records(triage_core.from_text(text))
                except RassError as exc:
                    self.app.fail(exc)
        self.app.push_screen(Paste(), pasted)

    def add_records(self, records: list[dict], what: str = "triage") -> None:
        """Show the rows at once, then answer them one by one in the model worker."""
        taken = set(self.rows)
        fresh = []
        for r in records:
            rid, n = r["id"], 1
            while rid in taken:
                n += 1
                rid = f"{r['id']}~{n}"
            taken.add(rid)
            fresh.append({**r, "id": rid, "mark": r.get("mark", "")})
        for r in fresh:
            self.rows[r["id"]] = r
        self.redraw()
        def work(job) -> None:
            for r in fresh:
                job.check()
                done = triage_core.triage_record(job.engine, job.probe, r, max_tokens=DEFAULT_MAX_TOKENS)
                job.ui(self.set_row, done)

        self.app.start(what, work, long=len(fresh) > 1)

    # --- table -----------------------------------------------------------------------------------
    def set_row(self, row: dict) -> None:
        row["mark"] = self.rows.get(row["id"], {}).get("mark", "")
        self.rows[row["id"]] = row
        table = self.query_one("#triage-table", DataTable)
        if row["id"] in table.rows:
            for key, _ in COLUMNS:
                table.update_cell(row["id"], key, _cell(row, key), update_width=True)
        if self.current() is row:
            self.show_detail(row)

    def visible(self) -> list[dict]:
        text = self.query_one("#filter", Input).value
        rows = [r for r in self.rows.values() if matches(r, text)]
        if self.sort_key:
            rows.sort(key=lambda r: (r.get(self.sort_key) is None, str(r.get(self.sort_key)) if not isinstance(
                r.get(self.sort_key), (int, float)) else f"{r[self.sort_key] + 1e6:020.6f}"))
        return rows

    def redraw(self) -> None:
        table = self.query_one("#triage-table", DataTable)
        table.clear()
        for r in self.visible():
            table.add_row(*(_cell(r, key) for key, _ in COLUMNS), key=r["id"])

    @on(Input.Changed, "#filter")
    def on_filter(self) -> None:
        self.redraw()

    @on(DataTable.HeaderSelected, "#triage-table")
    def on_sort(self, event: DataTable.HeaderSelected) -> None:
        self.sort_key = event.column_key.value
        self.redraw()

    def current(self) -> dict | None:
        table = self.query_one("#triage-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(key)

    @on(DataTable.RowHighlighted, "#triage-table")
    def on_highlight(self) -> None:
        row = self.current()
        if row is not None:
            self.show_detail(row)

    def show_detail(self, row: dict) -> None:
        head = f"[b]{row['id']}[/] [{row['lang']}] {row.get('refusal') or '…'}\n"
        from rich.markup import escape

        self.query_one("#detail-plain", Static).update(head + escape(row["prompt"]) + "\n\n" + escape(row.get("response") or "…"))
        ab = row.get("ab")
        self.query_one("#detail-steered", Static).update(
            f"[b]mitigated[/] {escape(ab['why'])}: {ab['steered_label']}\n\n{escape(ab['steered'])}" if ab else
            "a: the answer under mitigation")

    # --- A/B, marks, export --------------------------------------------------------------------------
    def action_ab(self) -> None:
        row = self.current()
        if row is None:
            return
        try:
            scale = float(self.query_one("#ab-scale", Input).value or 0.5)
        except ValueError:
            self.app.fail(InputError("the A/B scale must be a number, e.g. 0.5"))
            return
        folder = self.query_one("#ab-mitigation", Input).value.strip()

        def work(job) -> None:
            from rass_lite.mitigate.steer import load_mitigation

            mitigation = load_mitigation(folder, job.engine) if folder else None
            ab = triage_core.ab_answers(job.engine, job.probe, row, max_tokens=DEFAULT_MAX_TOKENS,
                                        scale=scale, mitigation=mitigation)
            job.ui(self.set_ab, row["id"], ab)

        self.app.start("A/B", work, activations=True, probe=True)

    def set_ab(self, rid: str, ab: dict) -> None:
        row = self.rows[rid]
        row["ab"] = ab
        row.setdefault("response", ab["plain"])
        if self.current() is row:
            self.show_detail(row)

    def action_mark(self, key: str) -> None:
        row = self.current()
        if row is None:
            return
        row["mark"] = "" if row.get("mark") == MARKS[key] else MARKS[key]
        table = self.query_one("#triage-table", DataTable)
        table.update_cell(row["id"], "mark", row["mark"])

    def action_export(self) -> None:
        from rass_lite.records import write_jsonl

        keep = [r for r in self.rows.values() if r.get("mark") == "keep"]
        if not keep:
            self.app.fail(InputError("no rows marked keep: mark rows with k first"))
            return
        path = Path(self.query_one("#export-path", Input).value.strip() or "triage-set.jsonl")
        write_jsonl(path, triage_core.to_morbench(keep))
        self.app.notify(f"{len(keep)} rows -> {path} (MORBench format: `rass-lite bench --set {path}`)")
