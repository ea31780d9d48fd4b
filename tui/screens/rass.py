from textual.containers import Vertical


class RassPane(Vertical):
    pass
