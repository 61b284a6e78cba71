"""The simulation core and the studies built on it.

The core knows the chain but no market or economy: :mod:`.agent` (agents decide from a
read-only view and return intents; schedules; seeds), :mod:`.sim` (the discrete-event loop
that signs, submits and mines), :mod:`.eventlog` (the JSONL log), :mod:`.study` (the ``Study``
and ``World`` protocols a study implements), :mod:`.config` (typed access to a scenario's
tables), :mod:`.spam` (a congestion spammer any study can use), :mod:`.erc20` (the token
approve both studies' worlds build) and :mod:`.reporting` (files, tables and plots every
study's report uses). Each study is a package of its own:
:mod:`.market` (pools, trading and MEV) and :mod:`.economy` (the escrow commitment economy).
"""
