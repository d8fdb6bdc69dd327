"""Conversation stories: scripted multi-turn chats with residents, run against the real /wechat door."""
