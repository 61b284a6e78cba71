"""agentbed/experiments"""
