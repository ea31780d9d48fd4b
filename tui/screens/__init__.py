"""One pane per step; each is a widget that asks the app (the engine owner) to run its model calls."""
