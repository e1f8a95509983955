"""livekit"""
