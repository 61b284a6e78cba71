"""agents/economy/strategies"""
