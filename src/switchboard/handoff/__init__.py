"""handoff"""
