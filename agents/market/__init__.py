"""agents/market"""
