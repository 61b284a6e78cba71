"""agents/market/strategies"""
