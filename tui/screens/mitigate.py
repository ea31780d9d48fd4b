from textual.containers import Vertical


class MitigatePane(Vertical):
    pass
