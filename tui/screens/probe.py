from textual.containers import Vertical


class ProbePane(Vertical):
    pass
