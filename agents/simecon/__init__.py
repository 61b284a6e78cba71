"""The compute-metered agent economy (the sim-economy paper) as a study on the chain.

``world``: the ``SimEconomy`` contract deployed and read; ``agents``: the paper's rule policy
and the compute meter that closes each turn; ``metrics``: the paper's measures of a finished
run; ``report``: its files; ``study``: the plug-in the experiments run.
"""
