"""A third study for the tests, outside the registry: proof that a study is one package.

Scenario files name it by import path, ``study = "studykit.counter:STUDY"`` (``tests/`` is on
``sys.path``); see :mod:`studykit.counter`.
"""
