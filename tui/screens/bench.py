from textual.containers import Vertical


class BenchPane(Vertical):
    pass
