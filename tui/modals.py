"""Modal screens: yes/no questions, help, and pasting many prompts."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Markdown, TextArea

HELP = """\
# rass-lite

| key | |
|---|---|
| **F1** Models | registry, fetch, load target / generator / judge, probe folder |
| **F2** Probe | build or load a probe: layer chart, refusal counts, boundary histogram, export |
| **F3** Triage | prompts or a file → score, zone, refusal label; `a` A/B, `k`/`d`/`r` mark, `e` export |
| **F4** RASS | generate → search → select → verify; needs-review rows go to Triage |
| **F5** Bench | run a set, live results, headline and bars; open and compare past runs |
| **F6** Mitigate | steering sweep: the trade-off curve and the recommended scale |
| **F7** Log | rass-lite and llama.cpp log lines |
| **Ctrl+X** Stop | stops the running step after its current step; runs resume where they stopped |
| **?** | this help · **Ctrl+Q** quit |

Every model call goes through one worker; a second call waits for the first.
"""


class Confirm(ModalScreen[bool]):
    BINDINGS = [("escape", "dismiss(False)", "No"), ("y", "dismiss(True)", "Yes")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, id="question")
            with Horizontal(classes="buttons"):
                yield Button("Yes", id="yes", variant="primary")
                yield Button("No", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class Help(ModalScreen[None]):
    BINDINGS = [("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Markdown(HELP)
            yield Button("Close", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)


class Paste(ModalScreen[str | None]):
    """A text area for many prompts, one a line."""

    BINDINGS = [("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Paste prompts, one a line")
            yield TextArea(id="paste-text")
            with Horizontal(classes="buttons"):
                yield Button("Triage", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one(TextArea).text if event.button.id == "ok" else None)
