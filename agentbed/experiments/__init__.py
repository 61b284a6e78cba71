"""Experiments: scenario files read, built and run, alone, compared and swept over seeds.

:mod:`.schema` (the scenario records), :mod:`.parse`, :mod:`.agent_tables` and
:mod:`.overrides` (reading a file, its agents and its key-path overrides and variants),
:mod:`.bundled` (scenarios shipped with the package), :mod:`.studies` (the registry of
studies), :mod:`.build` (a scenario made into a simulation), :mod:`.runner` (run and
compare), :mod:`.sweep` with :mod:`.grid` and :mod:`.intervals` (parameter grids over seeds),
:mod:`.engines` and :mod:`.ray_engine` (where independent runs execute: local processes or Ray).
:mod:`.scenario` re-exports the names users and tests import.
"""
