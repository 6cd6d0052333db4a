"""Helpers shared by several rules (not rules themselves: rule discovery
only picks up `mscNNN_<name>.py` modules of `mobius_sqlcheck.rules`)."""
