"""The market's agents, each a small configurable ``Agent`` subclass named by its scenario kind."""
