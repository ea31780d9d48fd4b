"""The rass-lite terminal UI (Textual). It imports rass_lite; rass_lite never imports it."""
