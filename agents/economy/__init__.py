"""agents/economy"""
